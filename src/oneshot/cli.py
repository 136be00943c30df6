"""`oneshot` — the command-line contract of the project (ARCHITECTURE.md, "Entry points").

Each sub-command parses its own arguments and calls one function of the packages; nothing
here does the work itself. Packages are imported inside the sub-command that needs them, so
`oneshot --help` answers without loading torch and MuJoCo.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")


def _command() -> list[str]:
    return ["oneshot", *sys.argv[1:]]


def _write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")


def _add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """One --option per field of the dataclass ``cls`` (CleanRL style), None when not given."""
    for f in fields(cls):
        kind = type(f.default) if f.default is not None else float
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=kind, default=None,
                            help=f"(default {f.default})")


def _given(args: argparse.Namespace, cls: type) -> dict:
    """The fields of ``cls`` set on the command line."""
    return {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name) is not None}


DATAGEN_FAMILIES = ("reach", "push", "place", "sawyer-push", "arrange")


def cmd_datagen(args: argparse.Namespace) -> int:
    if args.family == "arrange":
        from sim.arrange_data import main as arrange_main

        return arrange_main(args.rest)
    if args.family == "reach":
        from sim.datagen import main as reach_main

        return reach_main(args.rest)
    from sim.manipulation_datagen import main as manipulation_main

    return manipulation_main(args.family, args.rest)


def cmd_train(args: argparse.Namespace) -> int:
    from meta_policy.config import ContextualConfig, MILConfig, TrainConfig

    from episodes import Dataset

    train = TrainConfig(**_given(args, TrainConfig))
    overrides = json.loads(Path(args.config).read_text()) if args.config else {}
    if args.method == "mil":
        from meta_policy.train import train_mil

        base = MILConfig.for_push() if Dataset(args.data).family == "push" else MILConfig()
        cfg = MILConfig.from_json({**base.to_json(), **overrides})
        train_mil(Path(args.data), Path(args.out), cfg, train, _command())
    else:
        from meta_policy.baselines import train_contextual

        cfg = ContextualConfig.from_json({**ContextualConfig().to_json(), **overrides})
        train_contextual(Path(args.data), Path(args.out), cfg, train, _command())
    print(f"checkpoint written to {args.out}")
    return 0


def cmd_train_daml(args: argparse.Namespace) -> int:
    from episodes import Dataset
    from meta_policy.daml_config import DAMLConfig, DAMLTrainConfig
    from meta_policy.daml_train import train_daml

    given = _given(args, DAMLTrainConfig)
    train = DAMLTrainConfig.gpu(**given) if args.preset == "gpu" else DAMLTrainConfig(**given)
    family = Dataset(args.data).family
    cfg = DAMLConfig() if family == "push" else DAMLConfig.for_sawyer()
    overrides = json.loads(Path(args.config).read_text()) if args.config else {}
    if args.loss:
        overrides["loss_kind"] = args.loss
    cfg = DAMLConfig.from_json({**cfg.to_json(), **overrides})
    if args.baseline:
        from meta_policy.daml_baselines import VideoBaselineConfig, train_video_baseline

        baseline = VideoBaselineConfig.from_daml(cfg, args.baseline)
        out = train_video_baseline(Path(args.data), Path(args.out), baseline, train, _command())
    else:
        out = train_daml(Path(args.data), Path(args.out), cfg, train, _command())
    if int(os.environ.get("RANK", 0)) == 0:
        print(f"checkpoint written to {out}")
    return 0


def cmd_train_flo(args: argparse.Namespace) -> int:
    from goal_classifier.model import ClassifierConfig
    from goal_classifier.train import FLOTrainConfig, train_flo

    overrides = json.loads(Path(args.config).read_text()) if args.config else {}
    cfg = ClassifierConfig.from_json({**ClassifierConfig().to_json(), **overrides})
    out = train_flo(Path(args.data), Path(args.out), cfg,
                    FLOTrainConfig(**_given(args, FLOTrainConfig)), _command())
    print(f"checkpoint written to {out}")
    return 0


def cmd_train_flo_ae(args: argparse.Namespace) -> int:
    from goal_classifier.autoencoder import AEConfig, AETrainConfig, train_autoencoder

    out = train_autoencoder(Path(args.data), Path(args.out), AEConfig(),
                            AETrainConfig(**_given(args, AETrainConfig)), _command())
    print(f"checkpoint written to {out}")
    return 0


def cmd_goal(args: argparse.Namespace) -> int:
    from goal_classifier.goal import infer_goal, load_flo, load_goal, read_images

    if args.action == "infer":
        goal = infer_goal(load_flo(args.checkpoint), read_images(args.positives))
        goal.save(args.out, _command())
        print(f"goal inferred from {len(args.positives)} positives in "
              f"{goal.source['infer_seconds'] * 1000:.1f} ms; written to {args.out}")
        return 0
    scores = load_goal(args.goal).score(read_images(args.images))
    for path, score in zip(args.images, scores):
        print(f"{score:.4f}  {path}")
    if args.json:
        _write_json(Path(args.json), {"goal": args.goal,
                                      "scores": dict(zip(args.images, map(float, scores)))})
    return 0


def _adapt_config(args: argparse.Namespace):
    from meta_policy.adapt import AdaptConfig

    return AdaptConfig(steps=args.adapt_steps, rate_scale=args.rate_scale)


def _add_adapt_config(parser: argparse.ArgumentParser) -> None:
    from meta_policy.adapt import AdaptConfig

    parser.add_argument("--daml-steps", type=int,
                        help="DAML: inner steps on the video (default: as meta-trained; "
                             "0: no adaptation, the ablation)")
    default = AdaptConfig()
    parser.add_argument("--adapt-steps", type=int, default=default.steps,
                        help=f"MIL: inner steps on the demo (default {default.steps})")
    parser.add_argument("--rate-scale", type=float, default=default.rate_scale,
                        help=f"MIL: factor on the learned inner rates (default {default.rate_scale})")


def cmd_train_gbac(args: argparse.Namespace) -> int:
    from adaptive_control.config import TrainConfig as GBACTrainConfig
    from adaptive_control.meta_train import train as train_gbac

    overrides = json.loads(Path(args.config).read_text()) if args.config else {}
    if overrides.get("env", args.env) != args.env:
        raise ValueError(f"--config sets env {overrides['env']!r} but --env is {args.env!r}")
    overrides.pop("env", None)
    for field in ("device", "seed"):
        if getattr(args, field) is not None:
            overrides[field] = getattr(args, field)
    if args.baseline:
        overrides["method"] = args.baseline
    cfg = GBACTrainConfig.preset(args.env, args.preset, **overrides)
    print(f"checkpoint written to {train_gbac(cfg, Path(args.out), _command())}")
    return 0


def _checkpoint_kind(path: str) -> str:
    """The ``kind`` in a checkpoint's config.json (mil, daml, ...)."""
    return _checkpoint_identity(path)[0]


def _checkpoint_identity(path: str) -> tuple[str, str | None]:
    """A checkpoint's kind and the task family of the demos it was trained on (None when
    its manifest does not say)."""
    from metalearn.checkpoint import CheckpointError, load_checkpoint

    _, config, manifest = load_checkpoint(path)
    if not isinstance(config.get("kind"), str):
        raise CheckpointError(f"{Path(path) / 'config.json'} names no kind of model")
    return config["kind"], (manifest.get("data") or {}).get("family")


def cmd_adapt(args: argparse.Namespace) -> int:
    if _checkpoint_kind(args.checkpoint) == "daml":
        from meta_policy.daml_adapt import adapt as adapt_daml, load_daml

        adapted = adapt_daml(load_daml(args.checkpoint), args.demo, steps=args.daml_steps)
    else:
        from meta_policy.adapt import adapt, load_mil

        adapted = adapt(load_mil(args.checkpoint), args.demo, how=_adapt_config(args))
    adapted.save(args.out, _command())
    print(f"adapted in {adapted.source['adapt_seconds'] * 1000:.1f} ms; policy written to {args.out}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.record and args.checkpoint is None:
        raise ValueError("--record writes into a checkpoint's manifest: give --checkpoint")
    if args.suite == "flo-classify":
        return _evaluate_flo_classify(args)
    if args.suite in ("flo-plan", "flo-cascade"):
        return _evaluate_flo_plan(args)
    if args.suite.startswith("gbac-"):
        return _evaluate_gbac(args)
    from oneshot.imitation_eval import SUITES as IMITATION_SUITES

    if args.expert:
        from oneshot.expert_eval import evaluate_expert

        result = evaluate_expert(args.suite, args.trials, args.seed,
                                 Path(args.scene) if args.scene else None)
    elif args.suite in IMITATION_SUITES:
        result = _evaluate_imitation(args)
    else:
        from oneshot.evaluate import EvalConfig, evaluate, method_from_args

        cfg = EvalConfig(suite=args.suite, trials=args.trials,
                         trials_per_task=args.trials_per_task or 10, seed=args.seed,
                         scene=Path(args.scene) if args.scene else None)
        method = method_from_args(args.checkpoint, args.baseline, args.seed, _adapt_config(args))
        result = evaluate(method, cfg)
    result["command"] = " ".join(_command())
    _write_json(Path(args.json), result)
    if args.record:
        from metalearn.checkpoint import record_results

        record_results(args.checkpoint, f"{result['suite']}/{result['method']}", result)
    lo, hi = result["ci95"]
    print(f"{result['method']} on {result['suite']}: success {result['success_rate']:.3f} "
          f"(95% CI {lo:.3f}-{hi:.3f}) over {result['trials']} trials -> {args.json}")
    return 0


def _evaluate_flo_classify(args: argparse.Namespace) -> int:
    """FLO against a from-scratch classifier on held-out arrangement tasks."""
    from goal_classifier.evaluate import FLOClassifyConfig, evaluate_flo_classify
    from goal_classifier.goal import load_flo

    if args.checkpoint is None:
        raise ValueError("--suite flo-classify needs --checkpoint (a `oneshot train flo` one)")
    result = evaluate_flo_classify(load_flo(args.checkpoint), FLOClassifyConfig(seed=args.seed))
    result["command"] = " ".join(_command())
    _write_json(Path(args.json), result)
    if args.record:
        from metalearn.checkpoint import record_results

        record_results(args.checkpoint, result["suite"], result)
    for method, figures in result["methods"].items():
        print(f"{method:8s} " + "  ".join(f"{name} {value:.3f}" for name, value in figures.items()))
    return 0


def _evaluate_flo_plan(args: argparse.Namespace) -> int:
    """FLO, pixel, autoencoder and oracle costs planning on held-out arrangement tasks."""
    from goal_classifier.plan_eval import run_suite

    if args.checkpoint is None:
        raise ValueError(f"--suite {args.suite} needs --checkpoint (a `oneshot train flo` one)")
    result = run_suite(args.suite, Path(args.checkpoint), args.tasks, args.seed)
    result["command"] = " ".join(_command())
    _write_json(Path(args.json), result)
    if args.record:
        from metalearn.checkpoint import record_results

        record_results(args.checkpoint, result["suite"], result)
    for method, figures in result["methods"].items():
        lo, hi = figures["ci95"]
        print(f"{method:8s} success {figures['success_rate']:.3f} (95% CI {lo:.3f}-{hi:.3f})")
    return 0


IMITATION_KINDS = {"daml": None, "daml-contextual": "contextual", "daml-da-lstm": "da-lstm",
                   "mil": None}


def _evaluate_gbac(args: argparse.Namespace) -> int:
    """A changing-dynamics suite: GBAC against MB, MB+DE and RBAC over seeds."""
    from adaptive_control.evaluate import EvalConfig, evaluate
    from adaptive_control.plots import suite_figures

    if args.checkpoint is None:
        raise ValueError(f"--suite {args.suite} needs --checkpoint (a `oneshot train gbac` one)")
    cfg = EvalConfig(args.suite, seeds=args.seeds, episode_steps=args.episode_steps,
                     first_seed=args.seed)
    result = evaluate(Path(args.checkpoint), cfg)
    result["command"] = " ".join(_command())
    _write_json(Path(args.json), result)
    pngs = suite_figures(result, Path(args.json))
    if args.record:
        from metalearn.checkpoint import record_results

        record_results(args.checkpoint, result["suite"], result)
    for method, figures in result["methods"].items():
        print(f"{method:6s} return {figures['mean_return']:9.2f} +- {figures['std']:.2f}")
    print(f"figures: {', '.join(str(path) for path in pngs)}")
    return 0


def _evaluate_imitation(args: argparse.Namespace) -> dict:
    """An imitation suite: DAML, MIL or a baseline, chosen by the checkpoint's kind."""
    from oneshot.imitation_eval import (
        SUITES,
        DAMLMethod,
        ImitationEvalConfig,
        evaluate_imitation,
    )

    if args.checkpoint is None:
        raise ValueError(f"--suite {args.suite} needs --checkpoint")
    kind, family = _checkpoint_identity(args.checkpoint)
    if kind not in IMITATION_KINDS:
        raise ValueError(f"--suite {args.suite}: {args.checkpoint} is a {kind!r} checkpoint; "
                         f"the imitation suites evaluate {sorted(IMITATION_KINDS)}")
    if family is not None and family != SUITES[args.suite].family:
        raise ValueError(f"--suite {args.suite} runs the {SUITES[args.suite].family} twin; "
                         f"{args.checkpoint} was trained on {family} demos")
    if args.baseline and args.baseline != IMITATION_KINDS[kind]:
        raise ValueError(f"--baseline {args.baseline}: {args.checkpoint} is a {kind!r} checkpoint")
    if (kind == "mil") != (args.suite == "push-robot"):
        raise ValueError(f"--suite {args.suite} evaluates "
                         f"{'mil' if args.suite == 'push-robot' else 'daml'} checkpoints "
                         f"(a robot demo with actions is MIL's, a video DAML's); "
                         f"{args.checkpoint} is {kind!r}")
    if kind == "daml":
        method = DAMLMethod(args.checkpoint, args.daml_steps)
    elif kind == "mil":
        from oneshot.evaluate import MILMethod

        method = MILMethod(args.checkpoint, _adapt_config(args))
    else:
        from meta_policy.daml_baselines import VideoBaselineMethod

        method = VideoBaselineMethod(args.checkpoint)
    cfg = ImitationEvalConfig(args.suite, args.trials, args.trials_per_task or 5, args.seed)
    return evaluate_imitation(method, cfg)


BENCHMARKS = ("sinusoid", "speed", "datagen", "ros", "mpc", "flo")


def cmd_bench(args: argparse.Namespace) -> int:
    import importlib

    return importlib.import_module(f"oneshot.benchmarks.{args.name}").main(args.rest)


def cmd_sim(args: argparse.Namespace) -> int:
    from sim.contact_sheet import contact_sheet

    print(f"wrote {contact_sheet(Path(args.out), args.seed)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from oneshot.demo import run_demo

    return run_demo(Path(args.checkpoint), Path(args.out), args.trials, args.seed)


def cmd_run(args: argparse.Namespace) -> int:
    from oneshot.run_policy import run

    task = json.loads(args.task) if args.task else None
    result = run(Path(args.policy), args.env, task, args.trials, args.seed,
                 Path(args.video) if args.video else None)
    if args.json:
        _write_json(Path(args.json), result)
    lo, hi = result["ci95"]
    print(f"{args.policy} in the {result['env']} twin: success {result['success_rate']:.2f} "
          f"(95% CI {lo:.2f}-{hi:.2f}) over {result['trials']} trials; {result['outcomes']}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from adaptation_node.convert import convert, convert_dataset, task_argument

    logs = [Path(log) for log in args.logs]
    if args.dataset:
        results = convert_dataset(logs, Path(args.out), " ".join(_command()), args.robot)
    else:
        if len(logs) > 1:
            raise ValueError("several logs make a dataset: add --dataset")
        results = [convert(logs[0], Path(args.out), args.robot, args.demonstrator,
                           task_argument(args.task))]
    for result in results:
        cut = " (log cut short: converted up to the cut)" if result.truncated else ""
        print(f"{result.episode}: {result.steps} steps, "
              f"{len(result.skipped)} messages skipped{cut}")
        for reason in result.skipped[:3]:
            print(f"  skipped {reason}", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from adaptation_node.export import export_episode

    path = export_episode(Path(args.episode), Path(args.out), args.robot)
    print(f"exported {args.episode} to the rosbag2 folder {path}")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from adaptation_node.bringup import up

    return up(args.config, args.seconds, args.domain_id)


def cmd_record(args: argparse.Namespace) -> int:
    from adaptation_node.convert import task_argument
    from adaptation_node.record import record

    path, frames = record(args.camera, args.seconds, Path(args.out), task_argument(args.task))
    print(f"recorded {frames} frames to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oneshot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("datagen", help=f"generate demonstrations: datagen "
                                        f"{{{','.join(DATAGEN_FAMILIES)}}} --out DIR ...")
    p.add_argument("family", choices=DATAGEN_FAMILIES)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_datagen)

    from meta_policy.config import TrainConfig
    from meta_policy.daml_config import DAMLTrainConfig

    p = sub.add_parser("train", help="meta-train a model on demos: train {mil,contextual,daml}")
    methods = p.add_subparsers(dest="method", required=True)
    m = methods.add_parser("gbac", help="meta-train GBAC's dynamics model, collecting its own "
                                        "data with MPC on a changing-dynamics twin")
    m.add_argument("--env", required=True, choices=["cheetah", "ant", "arm"])
    m.add_argument("--out", required=True)
    m.add_argument("--preset", choices=["cpu", "gpu"], default="cpu",
                   help="cpu: fits 2 cores; gpu: the thesis's scale (Tables 16-18)")
    m.add_argument("--config", help="JSON file overriding fields of adaptive_control's TrainConfig")
    m.add_argument("--device", choices=["cpu", "cuda"])
    m.add_argument("--seed", type=int)
    m.add_argument("--baseline", choices=["mb", "rbac"],
                   help="train a comparison on its own collected data instead: mb (also "
                        "MB+DE's model) or rbac")
    m.set_defaults(func=cmd_train_gbac)
    for method in ("mil", "contextual"):
        m = methods.add_parser(method, help=f"meta-train {method} on robot demos")
        m.add_argument("--data", required=True)
        m.add_argument("--out", required=True)
        m.add_argument("--config", help="JSON file overriding fields of the model config")
        _add_dataclass_arguments(m, TrainConfig)
        m.set_defaults(func=cmd_train)
    m = methods.add_parser("daml", help="meta-train DAML on paired video + robot demos; "
                                        "multi-GPU: torchrun --nproc-per-node N -m oneshot train daml")
    m.add_argument("--data", required=True, help="a dataset with robot (and human) demos")
    m.add_argument("--out", required=True)
    m.add_argument("--preset", choices=["cpu", "gpu"], default="cpu",
                   help="cpu: fits 2 cores in under 2 h; gpu: the thesis's scale (B.3.6)")
    m.add_argument("--loss", choices=["temporal", "linear"],
                   help="learned adaptation loss (default temporal; linear = the ablation)")
    m.add_argument("--config", help="JSON file overriding fields of the DAML policy config")
    m.add_argument("--baseline", choices=["contextual", "da-lstm"],
                   help="train a baseline on the same data instead (same conv trunk, same "
                        "supervision, no meta-learning; thesis Tables 6-8)")
    _add_dataclass_arguments(m, DAMLTrainConfig)
    m.set_defaults(func=cmd_train_daml)
    from goal_classifier.train import FLOTrainConfig

    m = methods.add_parser("flo", help="meta-train a FLO goal classifier on arrangement images")
    m.add_argument("--data", required=True, help="a dataset from `oneshot datagen arrange`")
    m.add_argument("--out", required=True)
    m.add_argument("--config", help="JSON file overriding fields of the classifier config")
    _add_dataclass_arguments(m, FLOTrainConfig)
    m.set_defaults(func=cmd_train_flo)
    from goal_classifier.autoencoder import AETrainConfig

    m = methods.add_parser("flo-ae", help="the autoencoder baseline of FLO's planning "
                                          "comparison, on the meta-training images")
    m.add_argument("--data", required=True, help="a dataset from `oneshot datagen arrange`")
    m.add_argument("--out", required=True, help="e.g. checkpoints/flo-arrange/ae")
    _add_dataclass_arguments(m, AETrainConfig)
    m.set_defaults(func=cmd_train_flo_ae)

    p = sub.add_parser("goal", help="FLO goals: goal infer --checkpoint CKPT --positives IMG... "
                                    "--out GOAL | goal score --goal GOAL IMG...")
    actions = p.add_subparsers(dest="action", required=True)
    g = actions.add_parser("infer", help="adapt a FLO classifier to K pictures of success")
    g.add_argument("--checkpoint", required=True)
    g.add_argument("--positives", required=True, nargs="+", help="K images of success")
    g.add_argument("--out", required=True, help="directory for the goal classifier")
    g.set_defaults(func=cmd_goal)
    g = actions.add_parser("score", help="P(success) of images under an inferred goal")
    g.add_argument("--goal", required=True)
    g.add_argument("images", nargs="+")
    g.add_argument("--json", help="also write the scores as JSON here")
    g.set_defaults(func=cmd_goal)

    p = sub.add_parser("adapt", help="adapt a meta-trained checkpoint to one demo")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--demo", "--video", dest="demo", required=True,
                   help="MIL: an episode directory; DAML: a video (episode, mp4, MCAP, "
                        "rosbag2 folder or .db3)")
    p.add_argument("--out", required=True)
    _add_adapt_config(p)
    p.set_defaults(func=cmd_adapt)

    p = sub.add_parser("eval", help="one-shot success rate on an evaluation suite")
    p.add_argument("--suite", default="reach-heldout")
    p.add_argument("--checkpoint")
    p.add_argument("--baseline", choices=["random", "contextual", "da-lstm"],
                   help="reach: random or contextual; push suites: the baseline the "
                        "checkpoint holds (contextual or da-lstm)")
    p.add_argument("--expert", action="store_true",
                   help="the twin's scripted expert (--suite reach, push, place, sawyer-push, "
                        "or push-human, place-human, sawyer-push-human)")
    p.add_argument("--scene", help="scene YAML staging the objects/colours to evaluate")
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--trials-per-task", type=int,
                   help="trials per demonstrated task (default 10 reach, 5 push)")
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--seeds", type=int, default=5, help="gbac-* suites: episodes per method")
    p.add_argument("--episode-steps", type=int,
                   help="gbac-* suites: episode length (default: the twin's, 1000 or 500)")
    p.add_argument("--tasks", type=int, default=40,
                   help="flo-plan, flo-cascade: held-out tasks (default 40)")
    p.add_argument("--json", required=True)
    p.add_argument("--record", action="store_true",
                   help="also add the result to the checkpoint's manifest.json")
    _add_adapt_config(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help=f"benchmarks: bench {{{','.join(BENCHMARKS)}}} --json OUT",
                       add_help=False)
    p.add_argument("name", choices=BENCHMARKS)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("sim", help="pictures of the twins: sim contact-sheet --out sheet.png")
    p.add_argument("what", choices=["contact-sheet"])
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0, help="which held-out task to show")
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("demo", help="the main job: the robot imitates one video of a person pushing a never-seen object")
    p.add_argument("--checkpoint", default="checkpoints/daml-push-human",
                   help="a DAML checkpoint (push story) or a MIL one (reach story)")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("run", help="execute an adapted policy in a twin: run --policy ADAPTED --env push")
    p.add_argument("--policy", required=True, help="an adapted policy written by `oneshot adapt`")
    p.add_argument("--env", required=True, choices=["push", "place", "reach"])
    p.add_argument("--task", help="task as JSON (default: the task of the demo it adapted on)")
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--video", help="write the first trial as mp4 here")
    p.add_argument("--json", help="write the outcomes as JSON here")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("convert", help="ROS 2 logs of demonstrations -> an episode or a dataset")
    p.add_argument("--log", "--mcap", dest="logs", required=True, nargs="+",
                   help="logs with image_raw, joint_states, cmd/joint: .mcap files, rosbag2 "
                        "folders or .db3 files, or RealSense .db3 recordings (human demos)")
    p.add_argument("--out", required=True, help="new episode (or, with --dataset, dataset) dir")
    p.add_argument("--dataset", action="store_true",
                   help="write a training dataset; demos with the same task are one task")
    p.add_argument("--robot", help="robot profile (default: the log's, else reach)")
    p.add_argument("--demonstrator", choices=["robot", "human"],
                   help="(one log) who demonstrated (default: the log's)")
    p.add_argument("--task", help='(one log) task as JSON (default: the log\'s)')
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("export", help="an episode -> a ROS 2 log (rosbag2 folder, MCAP)")
    p.add_argument("--episode", required=True, help="episode directory")
    p.add_argument("--out", required=True, help="new rosbag2 folder")
    p.add_argument("--robot", help="robot profile (default: the episode's, else reach)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("up", help="start a ROS 2 graph: up sim-reach | up CONFIG.yaml")
    p.add_argument("config", help="a config name from launch/ (sim-reach) or a YAML path")
    p.add_argument("--for", dest="seconds", type=float, help="stop the graph after this long")
    p.add_argument("--domain-id", type=int, help="ROS_DOMAIN_ID for every node")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("record", help="a human demonstration from a camera -> an episode")
    p.add_argument("--camera", required=True, help="realsense[:SERIAL], usb:N or a file")
    p.add_argument("--seconds", type=float, default=10.0, help="length (default 10)")
    p.add_argument("--out", required=True, help="directory for the new episode")
    p.add_argument("--task", help='task description as JSON, e.g. \'{"family": "reach"}\'')
    p.set_defaults(func=cmd_record)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a sub-command; bad input (files, demos, checkpoints, values) exits 2 with one line.

    Set ONESHOT_DEBUG=1 to see the traceback instead.
    """
    from episodes import EpisodeError
    from metalearn.checkpoint import CheckpointError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (EpisodeError, CheckpointError, ValueError, OSError) as error:
        if os.environ.get("ONESHOT_DEBUG"):
            raise
        print(f"oneshot {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
