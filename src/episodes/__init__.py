"""The versioned, lazily loaded on-disk format for demonstrations and datasets of them."""

from episodes.dataset import Dataset, DatasetError, write_dataset_index
from episodes.episode import (
    FORMAT_VERSION,
    Episode,
    EpisodeError,
    EpisodeReader,
    read_episode,
    write_episode,
)

__all__ = [
    "FORMAT_VERSION",
    "Dataset",
    "DatasetError",
    "Episode",
    "EpisodeError",
    "EpisodeReader",
    "read_episode",
    "write_dataset_index",
    "write_episode",
]
