"""Tandem from Python: multi-task recommenders (retrieval + ranking), trained
and served by Tandem's C++ core.

    import tandem
    model = tandem.train(preset="kerasrs", data="ml-100k", epochs=1, seed=7)
    model.evaluate()                      # the metrics of `tandem evaluate --json`
    model.recommend(5, k=10)              # the items of `tandem recommend --json`
    model.user_embeddings()               # float32 numpy [users, dim]
    model.save("m.tandem"); tandem.load("m.tandem")

Every experiment setting is a keyword named as its TOML key (docs/config.md;
``tandem.setting_keywords()`` lists them): ``epochs=3``, ``batch_size=4096``,
``optimizer={"name": "adam"}`` or ``**{"training.seed": 3}``. Bad input raises
``tandem.Error`` (a ``ValueError``) with the message the CLI prints.
"""

from __future__ import annotations

import json as _json
import os as _os
import sys as _sys
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import numpy as _np

from . import _tandem
from ._tandem import Error

__all__ = [
    "Error",
    "Model",
    "compare",
    "config_toml",
    "load",
    "presets",
    "setting_keywords",
    "settings",
    "train",
]

__version__ = "0.1.0"

Progress = Union[bool, Callable[[Dict[str, Any]], None], None]

# Column names recognised in a ratings frame, per role, in order of
# preference (the TFRS tutorial's, MovieLens CSV's, generic ones).
_RATING_COLUMNS = {
    "user": ("user_id", "userId", "user", "uid"),
    "item": ("item_id", "movie_id", "movieId", "item", "iid", "movie_title", "title"),
    "rating": ("rating", "user_rating", "score", "label"),
    "timestamp": ("timestamp", "time", "ts"),
    "weight": ("weight", "sample_weight"),
}
_ITEM_COLUMNS = {
    "item": ("item_id", "movie_id", "movieId", "item", "iid"),
    "title": ("title", "movie_title", "name"),
}


def _settings_json(settings: Mapping[str, Any]) -> str:
    def plain(o: Any) -> Any:
        if isinstance(o, _np.generic):
            return o.item()
        if isinstance(o, _np.ndarray):
            return o.tolist()
        if isinstance(o, _os.PathLike):
            return _os.fspath(o)
        if isinstance(o, (tuple, set)):
            return list(o)
        raise Error(f"setting value {o!r} of type {type(o).__name__} is not a number, string, list or table")

    return _json.dumps(dict(settings), default=plain)


def _column_names(frame: Any) -> List[str]:
    return [str(c) for c in (frame.columns if hasattr(frame, "columns") else frame.keys())]


def _find(frame: Any, role: str, names: Sequence[str], given: Mapping[str, str], what: str) -> Optional[str]:
    if role in given:
        name = given[role]
        if name not in _column_names(frame):
            raise Error(f"{what}: column {name!r} (columns={{'{role}': ...}}) is not among {_column_names(frame)}")
        return name
    for name in names:
        if name in _column_names(frame):
            return name
    return None


def _id_column(values: Any, what: str) -> Any:
    a = _np.asarray(values)
    if a.dtype.kind in "iu":
        return a.astype(_np.int64, copy=False)
    if a.dtype.kind == "f":
        if not _np.all(_np.isfinite(a)) or not _np.all(a == _np.round(a)):
            raise Error(f"{what}: ids must be integers or strings, got non-integral numbers")
        return a.astype(_np.int64)
    if a.dtype.kind in "UO":
        out = a.tolist()
        for i, v in enumerate(out):
            if not isinstance(v, (str, int)) or isinstance(v, bool):
                raise Error(f"{what}, row {i}: an id must be an integer or a string, got {v!r}")
        return out
    raise Error(f"{what}: ids must be integers or strings, got dtype {a.dtype}")


def _ratings_columns(ratings: Any, columns: Optional[Mapping[str, str]]) -> Dict[str, Any]:
    given = dict(columns or {})
    unknown = set(given) - set(_RATING_COLUMNS) - {"title"}
    if unknown:
        raise Error(f"columns: unknown role(s) {sorted(unknown)}; roles are {sorted(_RATING_COLUMNS)} and title")
    out: Dict[str, Any] = {}
    for role, names in _RATING_COLUMNS.items():
        name = _find(ratings, role, names, given, "ratings")
        if name is None:
            if role in ("user", "item"):
                raise Error(
                    f"ratings: no {role} column among {_column_names(ratings)}; name it with "
                    f"columns={{'{role}': ...}} (recognised: {', '.join(names)})")
            continue
        values = ratings[name]
        if role in ("user", "item"):
            out[role] = _id_column(values, f"ratings column {name}")
        elif role == "timestamp":
            out[role] = _np.asarray(values).astype(_np.int64)
        else:
            out[role] = _np.asarray(values, dtype=_np.float32)
    if "rating" not in out:  # implicit feedback, as the csv format's default
        out["rating"] = _np.ones(len(out["user"]), dtype=_np.float32)
    return out


def _items_columns(items: Any, ratings: Any, columns: Optional[Mapping[str, str]]) -> Optional[Dict[str, Any]]:
    given = dict(columns or {})
    if items is None:
        # A title column beside the item ids (the TFRS tutorial's frame)
        # gives the catalogue's titles.
        item = _find(ratings, "item", _RATING_COLUMNS["item"], given, "ratings")
        title = _find(ratings, "title", _ITEM_COLUMNS["title"], given, "ratings")
        if title is None or title == item:
            return None
        pairs: Dict[Any, str] = {}
        for i, t in zip(_id_column(ratings[item], f"ratings column {item}"), ratings[title]):
            pairs.setdefault(i if isinstance(i, str) else int(i), str(t))
        ids = list(pairs)
        return {"item": ids if ids and isinstance(ids[0], str) else _np.asarray(ids, dtype=_np.int64),
                "title": list(pairs.values())}
    item = _find(items, "item", _ITEM_COLUMNS["item"], {}, "items")
    title = _find(items, "title", _ITEM_COLUMNS["title"], {}, "items")
    if item is None or title is None:
        raise Error(f"items: need an item id column ({', '.join(_ITEM_COLUMNS['item'])}) and a title column "
                    f"({', '.join(_ITEM_COLUMNS['title'])}); it has {_column_names(items)}")
    return {"item": _id_column(items[item], f"items column {item}"), "title": [str(t) for t in items[title]]}


def _request(preset: Optional[str], config: Optional[Union[str, _os.PathLike]], data: Any, ratings: Any,
             items: Any, columns: Optional[Mapping[str, str]], settings: Dict[str, Any]) -> Any:
    r = _tandem.TrainRequest()
    r.preset = preset or ""
    r.config = _os.fspath(config) if config is not None else ""
    if isinstance(data, Mapping):  # the [data] table
        settings["data"] = dict(data)
    elif data is not None:
        r.data = _os.fspath(data)
    if ratings is not None:
        cols = _ratings_columns(ratings, columns)
        r.ratings = cols
        r.items = _items_columns(items, ratings, columns)
        # The presets' split counts are ML-100K's (80,000/20,000): with a frame
        # and no counts given, the random split takes 80% / 20% of its rows.
        names = set(settings) | {f"split.{k}" for k in settings.get("split", {})}
        if config is None and not names & {"train_count", "test_count", "split.train_count", "split.test_count"}:
            n = len(cols["user"])
            settings["train_count"] = int(round(0.8 * n))
            settings["test_count"] = n - settings["train_count"]
    elif items is not None:
        raise Error("items= describes the catalogue of a ratings= frame; give ratings= too")
    r.settings_json = _settings_json(settings)
    return r


class _Bar:
    """Progress as a tqdm bar when tqdm is installed, else a line per epoch."""

    def __init__(self) -> None:
        try:
            from tqdm.auto import tqdm  # type: ignore
        except ImportError:
            tqdm = None
        self._tqdm = tqdm
        self._bar: Any = None
        self._model = ""

    def __call__(self, e: Dict[str, Any]) -> None:
        if e["event"] == "eval":
            return
        if self._tqdm is None:
            if e["event"] == "epoch":
                print(f"[{e['model']}] epoch {e['epoch']}/{e['epochs']}: ranking loss {e['ranking_loss']:.4f}, "
                      f"retrieval loss {e['retrieval_loss']:.2f}, {e['seconds']:.2f} s", file=_sys.stderr)
            return
        total = e["steps"] * e["epochs"]
        if self._bar is None or self._model != e["model"]:
            self.close()
            self._model = e["model"]
            self._bar = self._tqdm(total=total, desc=e["model"], unit="step", leave=True)
        done = (e["epoch"] - 1) * e["steps"] + e["step"]
        self._bar.update(max(0, done - self._bar.n))
        self._bar.set_postfix(epoch=f"{e['epoch']}/{e['epochs']}", ranking=f"{e['ranking_loss']:.4f}",
                              retrieval=f"{e['retrieval_loss']:.1f}", refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _run(fn: Callable[[Any, Any], Any], request: Any, progress: Progress) -> Any:
    if progress is True:
        bar = _Bar()
        try:
            return fn(request, bar)
        finally:
            bar.close()
    if progress is False or progress is None:
        return fn(request, None)
    if not callable(progress):
        raise Error(f"progress must be True, False or a callable taking a dict, got {progress!r}")
    return fn(request, progress)


class Model:
    """A trained model: its config, vocabularies, catalogue, weights and metrics.

    Returned by :func:`train` and :func:`load`. ``recommend`` and ``predict``
    go through the serving path of ``tandem recommend`` and ``tandem serve``.
    """

    def __init__(self, core: Any) -> None:
        self._core = core

    @property
    def path(self) -> Optional[str]:
        """The file the model was loaded from or last saved to (None if never)."""
        return self._core.path or None

    @property
    def dim(self) -> int:
        """Width of the user and item vectors."""
        return int(self._core.dim)

    @property
    def config(self) -> Dict[str, Any]:
        """The experiment config, as the model file's JSON holds it."""
        return self._core.config

    @property
    def metrics(self) -> Dict[str, Any]:
        """The training history and evaluation stored with the model."""
        return self._core.metrics

    @property
    def user_ids(self) -> _np.ndarray:
        """Raw user id of each user-table row, in row order (row i of
        ``user_embeddings()``): int64, or str for a model trained on string
        ids. The out-of-vocabulary row has -1 (or "")."""
        return self._core.user_ids

    @property
    def item_ids(self) -> _np.ndarray:
        """Raw item id of each catalogue entry, in catalogue order (row i of
        ``item_embeddings()``): int64, or str for string ids."""
        return self._core.item_ids

    @property
    def item_titles(self) -> List[str]:
        """Title of each catalogue entry, in catalogue order."""
        return self._core.item_titles

    def user_embeddings(self) -> _np.ndarray:
        """Retrieval vector of every user-table row, float32 [rows, dim].

        A read-only view of the model's table when the user vectors are the
        table's rows (no copy), else computed by the user tower."""
        return self._core.user_embeddings()

    def item_embeddings(self) -> _np.ndarray:
        """Retrieval vector of every catalogue entry, float32 [items, dim];
        ``user_embeddings()[u] @ item_embeddings().T`` are the scores exact
        retrieval ranks by. A read-only view of the table where possible."""
        return self._core.item_embeddings()

    def save(self, path: Union[str, _os.PathLike]) -> None:
        """Writes the model file (atomically), as ``tandem train --output``."""
        self._core.save(_os.fspath(path))

    def evaluate(self, data: Optional[Union[str, _os.PathLike]] = None,
                 test: Optional[Union[str, _os.PathLike]] = None, **settings: Any) -> Dict[str, Any]:
        """The model's metrics on its test split: a dict with the keys of
        ``tandem evaluate --json``.

        A model trained in this session is evaluated on the split it was
        trained with (no files needed); a loaded one re-creates its split from
        its data (``data=`` if the directory moved), or uses ``test=FILE``.
        Evaluation settings may be given as keywords (``k=100``)."""
        return self._core.evaluate(_os.fspath(data) if data is not None else "",
                                   _os.fspath(test) if test is not None else "", _settings_json(settings))

    def recommend(self, user_id: Union[int, str], k: int = 10, candidates: Optional[int] = None,
                  exclude_seen: bool = False, features: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
        """Top ``k`` items for a user: ``candidates`` retrieved (default
        ``k``), ranked by the rating head. A list of dicts, the ``items`` of
        ``tandem recommend --json`` and of ``POST /v1/recommend``. An unknown
        user gets the cold-start answer (most popular items), or with
        ``features={"occupation": "engineer"}`` one from its features."""
        return self._recommend(user_id, k, candidates, exclude_seen, features, full=False)

    def recommend_reply(self, user_id: Union[int, str], k: int = 10, candidates: Optional[int] = None,
                        exclude_seen: bool = False, features: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """``recommend``'s whole reply, as ``tandem recommend --json`` prints it
        (``cold_start``, timings, the index, ``items``)."""
        return self._recommend(user_id, k, candidates, exclude_seen, features, full=True)

    def _recommend(self, user_id: Any, k: int, candidates: Optional[int], exclude_seen: bool,
                   features: Optional[Mapping[str, Any]], full: bool) -> Any:
        feats = None
        if features is not None:
            feats = {str(n): [str(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
                     for n, v in features.items()}
        return self._core.recommend(str(user_id), int(k), None if candidates is None else int(candidates),
                                    bool(exclude_seen), feats, full)

    def predict(self, user_ids: Any, item_ids: Any) -> Dict[str, _np.ndarray]:
        """Predictions for (user, item) pairs: ``{"rating": float32 array}``
        (the head's output: stars under the mse loss, P(positive) under bce),
        then one array per extra task (a binary task's P(positive)). Every
        user and item must be in the model (``tandem.Error`` names the first
        that is not)."""
        users = _np.atleast_1d(_np.asarray(user_ids))
        items = _np.atleast_1d(_np.asarray(item_ids))
        if users.shape != items.shape or users.ndim != 1:
            raise Error(f"predict: user_ids {users.shape} and item_ids {items.shape} must be equally long 1-d lists")
        return self._core.predict([str(u) for u in users.tolist()], [str(i) for i in items.tolist()])

    def export(self, path: Union[str, _os.PathLike], format: Optional[str] = None) -> Dict[str, Any]:
        """Writes embeddings with their ids, every weight by name and the config
        as ``npz`` (numpy) or ``safetensors`` (``format``, default from the
        extension), as ``tandem export``. Returns a summary (arrays, bytes)."""
        p = _os.fspath(path)
        if format is None:
            ext = _os.path.splitext(p)[1].lower()
            format = {".npz": "npz", ".safetensors": "safetensors"}.get(ext)
            if format is None:
                raise Error(f"export: cannot tell the format from {p!r}: give format='npz' or 'safetensors'")
        return self._core.export(p, format)

    def __repr__(self) -> str:
        c = self.config
        return (f"<tandem.Model preset={c.get('preset')!r} dim={self.dim} users={len(self.user_ids)} "
                f"items={len(self.item_ids)} path={self.path!r}>")


def train(preset: Optional[str] = None, *, config: Optional[Union[str, _os.PathLike]] = None,
          data: Any = None, ratings: Any = None, items: Any = None,
          columns: Optional[Mapping[str, str]] = None, progress: Progress = True, **settings: Any) -> Model:
    """Trains one model, evaluates it on its test split, and returns it.

    ``preset`` ("kerasrs" or "tfrs") or ``config`` (a TOML file) is the base;
    every other keyword is a setting named as its TOML key (``epochs=3``).
    The data is ``data=DIR`` (MovieLens or the csv format's files; default:
    $TANDEM_DATA, else ../shared/data/ml-100k), or ``ratings=`` a pandas
    DataFrame (or dict of arrays) with user, item and rating columns
    (recognised names, or ``columns={"user": ..., "item": ..., "rating": ...}``)
    and optionally ``items=`` a frame of item ids and titles. With a frame and
    no split counts, the random split takes 80% / 20% of its rows.

    ``progress``: True draws a tqdm bar (a line per epoch without tqdm), False
    nothing, a callable receives a dict per step, epoch and evaluation chunk.
    Training releases the GIL; Ctrl-C stops it with KeyboardInterrupt.
    """
    request = _request(preset, config, data, ratings, items, columns, dict(settings))
    return Model(_run(_tandem.train, request, progress))


def compare(preset: Optional[str] = None, *, config: Optional[Union[str, _os.PathLike]] = None,
            data: Any = None, ratings: Any = None, items: Any = None,
            columns: Optional[Mapping[str, str]] = None, progress: Progress = True, **settings: Any) -> Any:
    """The tutorials' table: the most-popular baseline, then rating-only,
    retrieval-only and joint models trained on one split, as ``tandem compare
    --json``'s rows. A pandas DataFrame when pandas is installed, else a list
    of dicts. Arguments as for :func:`train`."""
    request = _request(preset, config, data, ratings, items, columns, dict(settings))
    rows = _run(_tandem.compare, request, progress)
    try:
        import pandas  # type: ignore
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


def load(path: Union[str, _os.PathLike], *, index: str = "exact",
         index_file: Optional[Union[str, _os.PathLike]] = None, ef_search: int = 100) -> Model:
    """Reads a model file written by ``tandem train --output`` or ``Model.save``.

    ``index="hnsw"`` makes ``recommend`` retrieve approximately, as ``tandem
    serve --index hnsw``: from the graph saved by ``tandem index build``
    (``index_file=``, refused if it belongs to another model) or built on the
    first call. ``ef_search`` is HNSW's search depth."""
    return Model(_tandem.load(_os.fspath(path), index, _os.fspath(index_file) if index_file is not None else "",
                              int(ef_search)))


def setting_keywords() -> List[str]:
    """Every keyword train() accepts: unambiguous TOML keys and full paths."""
    return list(_tandem.setting_keywords())


def settings() -> List[Dict[str, Any]]:
    """Every setting: its path, TOML key, command-line flag and help."""
    return list(_tandem.settings())


def presets() -> List[str]:
    """The reference protocols: kerasrs, tfrs."""
    return list(_tandem.preset_names())


def config_toml(preset: Optional[str] = None, *, config: Optional[Union[str, _os.PathLike]] = None,
                **settings: Any) -> str:
    """The effective config as TOML (``tandem config --print``): for a record,
    or to save and pass as ``config=`` later."""
    return _tandem.config_toml(preset or "", _os.fspath(config) if config is not None else "",
                               _settings_json(settings))
