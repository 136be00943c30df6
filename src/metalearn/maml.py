"""Model-agnostic meta-learning (MAML): the functional inner loop and the outer update.

Thesis ch. 4 (L424-L700): adapted parameters ``phi = theta - alpha * grad L_inner(theta)``,
one or more steps; the meta-objective is the outer loss of ``phi`` summed (here: averaged)
over the tasks of a meta-batch, minimised over ``theta`` with Adam (Algorithm 2).

Models stay ordinary ``nn.Module`` objects; adapted parameters live in a plain dict
(:data:`Params`) and are applied with :func:`functional`, so any architecture works.

Task batching: the caller loops over the tasks of a meta-batch, calls
:meth:`InnerLoop.adapt` once per task and averages the outer losses before
:func:`meta_step`. Because tasks are independent, the loop also works on parameters that
carry a leading task dimension (``theta.expand(T, ...)`` applied with ``torch.func.vmap``)
when the inner loss is the *sum* of the per-task losses: the gradient of that sum with
respect to task ``i``'s slice is task ``i``'s own gradient (the sinusoid benchmark does this).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import torch
from torch import nn
from torch.func import functional_call

Params = dict[str, torch.Tensor]
LrMode = Literal["fixed", "per_step", "per_param"]


@dataclass
class InnerConfig:
    """Settings of the inner (task-adaptation) loop.

    lr_mode: ``fixed`` uses ``lr`` throughout; ``per_step`` learns one scalar rate per inner
    step and ``per_param`` one rate tensor per parameter per step (Meta-SGD, L6291), both
    initialised at ``lr`` ("the step size may be fixed ... or meta-learned", L490).
    grad_clip: element-wise clamp of the inner gradient to ``[-c, c]`` (MIL, L6838, L6892).
    first_order: stop the gradient through the inner gradient (first-order MAML, L726-L744).
    """

    steps: int = 1
    lr: float = 0.01
    lr_mode: LrMode = "fixed"
    grad_clip: float | None = None
    first_order: bool = False


def params_of(model: nn.Module) -> Params:
    """The model's parameters by name: the ``theta`` that the inner loop starts from."""
    return dict(model.named_parameters())


def per_task(params: Params, n: int) -> Params:
    """Give every parameter a leading task dimension of size n (a view, no copy), for a
    meta-batch applied with ``torch.func.vmap`` (module docstring, "Task batching")."""
    return {name: p.expand(n, *p.shape) for name, p in params.items()}


def functional(model: nn.Module, params: Params, *args, **kwargs):
    """Run ``model`` with ``params`` in place of its own parameters; buffers stay the model's."""
    return functional_call(model, params, args, kwargs)


def _rate_key(name: str) -> str:
    """A parameter name made safe as an nn.ParameterDict / safetensors key."""
    return name.replace(".", "__")


class InnerLoop(nn.Module):
    """The MAML inner loop with its (possibly learned) inner learning rates.

    Learned rates are parameters of this module, so the meta-optimiser trains them next to
    ``theta``; ``state_dict()`` holds plain tensors with names like ``param_rates.0__weight``.
    """

    def __init__(
        self,
        cfg: InnerConfig,
        params: Params,
        adapt_filter: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__()
        if cfg.steps < 1:
            raise ValueError(f"InnerConfig.steps must be >= 1, got {cfg.steps}")
        if cfg.lr_mode not in ("fixed", "per_step", "per_param"):
            raise ValueError(f"unknown InnerConfig.lr_mode {cfg.lr_mode!r}")
        self.cfg = cfg
        self.adapted = [n for n in params if adapt_filter is None or adapt_filter(n)]
        dtype = next(iter(params.values())).dtype if params else torch.get_default_dtype()
        if cfg.lr_mode == "per_step":
            self.step_rates = nn.Parameter(torch.full((cfg.steps,), cfg.lr, dtype=dtype))
        if cfg.lr_mode == "per_param":
            self.param_rates = nn.ParameterDict(
                {
                    _rate_key(n): nn.Parameter(
                        torch.full((cfg.steps, *params[n].shape), cfg.lr, dtype=params[n].dtype)
                    )
                    for n in self.adapted
                }
            )

    def rate(self, name: str, step: int) -> torch.Tensor | float:
        """The inner learning rate of parameter ``name`` at inner step ``step``; steps past
        the trained ones (more steps at test time) reuse the last learned rate."""
        step = min(step, self.cfg.steps - 1)
        if self.cfg.lr_mode == "per_step":
            return self.step_rates[step]
        if self.cfg.lr_mode == "per_param":
            return self.param_rates[_rate_key(name)][step]
        return self.cfg.lr

    def inner_step(
        self, params: Params, loss: torch.Tensor, step: int, create_graph: bool,
        rate_scale: float = 1.0,
    ) -> Params:
        """One gradient step ``phi = theta - rate_scale * rate * clip(grad)`` on the adapted
        parameters.

        Parameters outside the filter are passed through as the same tensor objects; an
        adapted parameter that the loss does not use gets a zero update. Without
        ``create_graph`` the gradient is a constant, so ``phi`` still depends on ``theta``
        (and on learned rates) to first order, as in first-order MAML.
        """
        names = [n for n in self.adapted if n in params]
        grads = torch.autograd.grad(
            loss, [params[n] for n in names], create_graph=create_graph, allow_unused=True
        )
        new = dict(params)
        for name, grad in zip(names, grads):
            if grad is None:
                continue
            if self.cfg.grad_clip is not None:
                grad = grad.clamp(-self.cfg.grad_clip, self.cfg.grad_clip)
            new[name] = params[name] - rate_scale * self.rate(name, step) * grad
        return new

    def adapt(
        self,
        params: Params,
        inner_loss: Callable[[Params], torch.Tensor],
        *,
        create_graph: bool | None = None,
        steps: int | None = None,
        rate_scale: float = 1.0,
    ) -> Params:
        """Adapt ``params`` to a task with ``steps`` (default ``cfg.steps``) steps on
        ``inner_loss`` (L484-L492); ``rate_scale`` multiplies every inner rate.

        Meta-training uses the defaults. At test time more steps may help (thesis 4.3: the
        sinusoid model keeps improving past the one step it was trained with).
        ``create_graph`` defaults to second-order MAML unless ``cfg.first_order``.
        """
        if create_graph is None:
            create_graph = not self.cfg.first_order
        for step in range(self.cfg.steps if steps is None else steps):
            params = self.inner_step(params, inner_loss(params), step, create_graph, rate_scale)
        return params


def meta_step(
    optimizer: torch.optim.Optimizer, meta_loss: torch.Tensor, clip: float | None = None
) -> float:
    """One outer update on ``meta_loss`` (Algorithm 2, line 9); returns the loss value.

    ``clip`` clamps every meta-gradient element to ``[-clip, clip]`` before the step, as MIL
    does with [-20, 20] (L6811-L6819).
    """
    optimizer.zero_grad(set_to_none=True)
    meta_loss.backward()
    if clip is not None:
        for group in optimizer.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    param.grad.clamp_(-clip, clip)
    optimizer.step()
    return float(meta_loss.detach())
