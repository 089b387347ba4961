"""A generated data set shaped like Last.fm HetRec 2011: top-50 artist lists of listeners, with scenes.

Last.fm's ``user_artists.dat`` holds, for each of 1,892 listeners, the (at
most) 50 artists they played most, with the play count: 92,834 pairs over
17,632 artists. What makes it what it is, and what this generator plants:

* **Lists of 50.** Nearly every listener has exactly 50 artists (their top
  50); a few have fewer. The list length says nothing about activity.
* **A steep head.** The most played artist is in about a third of the lists
  (Lady Gaga: 611 of 1,892); the ten biggest are in 20-30 % each.
* **A huge tail.** More than half of the artists have a single listener: they
  are in nobody else's list and cannot be recommended from anyone's data.
* **Scenes.** Music taste is local: fans of one metal band play the other
  bands of its scene. Artists belong to scenes (several hundred, of very
  different sizes) within broad genres; a listener follows a few scenes,
  mostly of one genre, and mixes them with the mainstream head. This is why
  item-item neighbourhoods work so well on the real file (``implicit``'s
  cosine item-kNN on BM25 weights is its best model there).
* **Heavy-tailed counts.** Plays per pair are lognormal around a median of
  about 260 with a few in the hundreds of thousands; people play artists of
  their own scenes more.

Everything is generated (no third-party data); the sizes default to
Last.fm's and can be changed. The constants were chosen so that ``implicit``
called directly on an 80/20 split of the generated file lands near what it
reaches on the real file (most popular about 0.08 NDCG@10, its cosine item-kNN
on BM25 weights about 0.19): the shape, not our models, was calibrated
(``benchmarks/implicit_feedback.py`` prints both).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: Last.fm HetRec 2011 (user_artists.dat): its sizes.
LASTFM_SHAPE = {"n_users": 1892, "n_items": 17632, "n_ratings": 92834}
#: The length of a full list (HetRec keeps each listener's top 50 artists).
LIST_LENGTH = 50

GENRES = ("pop", "rock", "indie", "electronic", "metal", "hip-hop", "alternative", "punk", "jazz", "folk",
          "soul", "classical", "reggae", "country", "experimental", "ambient")
_GENRE_SHARE = np.array([16, 14, 12, 10, 9, 7, 7, 5, 4, 4, 3, 2, 2, 2, 2, 1], dtype=np.float64)

_SCENES_PER_1000_ITEMS = 24      # 423 scenes on Last.fm's 17,632 artists
_SCENE_SIZE_SPREAD = 1.0         # lognormal spread of scene sizes
_SCENE_PULL_SPREAD = 1.8         # how unequally scenes are followed
_ARTIST_SPREAD = 1.2             # lognormal spread of artists' pull within a scene
_PULL_KNEE = (2.2, 0.1)           # above the knee an artist's pull grows at a tenth of the speed: a plateau of stars
_HEAD_SPREAD = 2.2               # how steep the mainstream head is (global pull of an artist)
_MAINSTREAM = (1.0, 4.0)         # Beta(a, b): a listener's share of mainstream picks
_SCENES_PER_USER = (1, 4)        # a listener follows 1-4 scenes
_OWN_GENRE = 0.75                # chance a followed scene is of the listener's main genre
_PLAYS_MEDIAN, _PLAYS_VOLUME, _PLAYS_PULL, _PLAYS_SCENE, _PLAYS_NOISE = 220.0, 0.9, 0.25, 0.6, 1.0


def generate_lastfm(seed: int = 0, **sizes: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Listener-artist play counts and artists, of Last.fm's size unless ``sizes`` says otherwise.

    Returns ``plays`` (``userID, artistID, weight``: distinct pairs, every artist in at least one list) and
    ``artists`` (``id, name, genre, scene``).
    """
    shape = {**LASTFM_SHAPE, **{k: int(v) for k, v in sizes.items()}}
    n_users, n_items, n_pairs = shape["n_users"], shape["n_items"], shape["n_ratings"]
    length = max(LIST_LENGTH, -(-n_pairs // n_users))
    if not (n_items <= n_pairs <= min(length, n_items) * n_users) or n_users < 2:
        raise ValueError(f"{n_pairs} pairs cannot be spread over {n_users} listeners and {n_items} artists: "
                         f"every artist needs a listener and a list holds at most {min(length, n_items)} artists.")
    rng_items, rng_users, rng_pick, rng_plays, rng_names = np.random.default_rng([int(seed), 1892]).spawn(5)
    catalogue = _artists(n_items, rng_items)
    lengths = _list_lengths(n_users, n_pairs, min(length, n_items), rng_users)
    people = _listeners(n_users, catalogue, rng_users)
    user_idx, item_idx = _pick_lists(lengths, people, catalogue, rng_pick)
    _give_every_artist_a_listener(user_idx, item_idx, people, catalogue, rng_pick)
    plays = _plays(user_idx, item_idx, people, catalogue, rng_plays)
    order = np.lexsort((item_idx, user_idx))
    frame = pd.DataFrame({"userID": user_idx[order] + 2, "artistID": catalogue["id"][item_idx[order]],
                          "weight": plays[order]})
    artists = pd.DataFrame({"id": catalogue["id"], "name": _names(n_items, rng_names),
                            "genre": np.array(GENRES, dtype=object)[catalogue["genre"]],
                            "scene": catalogue["scene"]}).sort_values("id", kind="stable").reset_index(drop=True)
    return frame, artists


def write_lastfm_like(directory: str | Path, seed: int = 0, **sizes: int) -> dict[str, Path]:
    """:func:`generate_lastfm` written in HetRec's layout: ``user_artists.dat`` and ``artists.dat``.

    Tab-separated with HetRec's headers (``userID  artistID  weight``; ``id  name  url  pictureURL``).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    plays, artists = generate_lastfm(seed=seed, **sizes)
    table = pd.DataFrame({"id": artists["id"], "name": artists["name"],
                          "url": "http://www.last.fm/music/" + artists["name"].str.replace(" ", "+"),
                          "pictureURL": ""})
    paths = {"ratings": directory / "user_artists.dat", "items": directory / "artists.dat"}
    plays.to_csv(paths["ratings"], sep="\t", index=False, lineterminator="\n")
    table.to_csv(paths["items"], sep="\t", index=False, lineterminator="\n")
    return paths


# ------------------------------------------------------------------ parts
def _artists(n_items: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n_scenes = max(2, round(_SCENES_PER_1000_ITEMS * n_items / 1000))
    scene_genre = rng.choice(len(GENRES), n_scenes, p=_GENRE_SHARE / _GENRE_SHARE.sum())
    size = np.exp(rng.normal(0.0, _SCENE_SIZE_SPREAD, n_scenes))
    scene = rng.choice(n_scenes, n_items, p=size / size.sum())
    scene[:n_scenes] = np.arange(n_scenes)  # no empty scene
    rng.shuffle(scene)
    pull = rng.normal(0.0, 1.0, n_items)
    knee, slope = _PULL_KNEE
    pull = np.where(pull > knee, knee + slope * (pull - knee), pull)
    return {
        "id": rng.permutation(n_items).astype(np.int64) + 1,
        "scene": scene, "genre": scene_genre[scene], "scene_genre": scene_genre,
        "scene_pull": rng.normal(0.0, _SCENE_PULL_SPREAD, n_scenes),
        "pull": pull,
    }


def _list_lengths(n_users: int, n_pairs: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """Full lists of ``length`` except for a few short ones, summing to ``n_pairs``."""
    lengths = np.full(n_users, length, dtype=np.int64)
    short = n_users * length - n_pairs
    for user in rng.permutation(n_users):
        if short <= 0:
            break
        cut = min(short, int(rng.integers(1, length)))
        lengths[user] -= cut
        short -= cut
    return lengths


def _listeners(n_users: int, catalogue, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n_scenes = len(catalogue["scene_genre"])
    genre = rng.choice(len(GENRES), n_users, p=_GENRE_SHARE / _GENRE_SHARE.sum())
    follows = rng.integers(_SCENES_PER_USER[0], _SCENES_PER_USER[1] + 1, n_users)
    scene_weight = np.exp(catalogue["scene_pull"])
    followed = np.zeros((n_users, n_scenes))
    for user in range(n_users):
        own = catalogue["scene_genre"] == genre[user]
        for _ in range(follows[user]):
            pool = own if (rng.random() < _OWN_GENRE and own.any()) else np.ones(n_scenes, dtype=bool)
            weight = np.where(pool, scene_weight, 0.0)
            followed[user, rng.choice(n_scenes, p=weight / weight.sum())] += rng.gamma(2.0)
    followed /= followed.sum(axis=1, keepdims=True)
    return {"genre": genre, "followed": followed, "mainstream": rng.beta(*_MAINSTREAM, n_users),
            "volume": rng.normal(0.0, _PLAYS_VOLUME, n_users)}


def _pick_lists(lengths, people, catalogue, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each listener's distinct artists: the mainstream head and the followed scenes, mixed."""
    scene, pull = catalogue["scene"], catalogue["pull"]
    head = np.exp(_HEAD_SPREAD * pull + catalogue["scene_pull"][scene])
    head /= head.sum()
    in_scene = np.exp(_ARTIST_SPREAD * pull)
    scene_total = np.bincount(scene, weights=in_scene)
    in_scene = in_scene / scene_total[scene]
    users, items = [], []
    for user, length in enumerate(lengths):
        share = people["mainstream"][user]
        weights = share * head + (1.0 - share) * people["followed"][user, scene] * in_scene
        weights /= weights.sum()
        chosen = rng.choice(len(weights), size=int(length), replace=False, p=weights)
        users.append(np.full(len(chosen), user, dtype=np.int64))
        items.append(chosen.astype(np.int64))
    return np.concatenate(users), np.concatenate(items)


def _give_every_artist_a_listener(user_idx, item_idx, people, catalogue, rng: np.random.Generator) -> None:
    """An artist in nobody's list replaces, in place, one list entry of a follower of its scene.

    The entry replaced is a random one whose artist is in at least three lists, so no artist loses its
    last listener; listeners keep their list lengths. Like the real file's tail: an obscure artist of a scene
    one listener follows.
    """
    n_items = len(catalogue["scene"])
    count = np.bincount(item_idx, minlength=n_items)
    missing = rng.permutation(np.flatnonzero(count == 0))
    if not len(missing):
        return
    followers = [np.flatnonzero(col > 0) for col in people["followed"].T]
    rows_of_user = np.split(np.arange(len(user_idx)), np.cumsum(np.bincount(user_idx))[:-1])
    for artist in missing:
        pool = followers[catalogue["scene"][artist]]
        for attempt in range(200):  # a follower of its scene first, then anyone
            user = (int(pool[rng.integers(len(pool))]) if len(pool) and attempt < 20
                    else int(rng.integers(len(rows_of_user))))
            rows = rows_of_user[user]
            movable = rows[count[item_idx[rows]] >= 3]
            if len(movable):
                row = movable[rng.integers(len(movable))]
                count[item_idx[row]] -= 1
                item_idx[row] = artist
                count[artist] += 1
                break
        else:
            raise RuntimeError("could not give every artist a listener; use more pairs per artist")


def _plays(user_idx, item_idx, people, catalogue, rng: np.random.Generator) -> np.ndarray:
    """Plays per pair: ``log c = log 220 + volume_u + 0.25 pull_a + 0.6 scene_ua + noise``, at least 1."""
    scene_share = people["followed"][user_idx, catalogue["scene"][item_idx]]
    fan = np.log1p(10.0 * scene_share)
    log_plays = (np.log(_PLAYS_MEDIAN) + people["volume"][user_idx] + _PLAYS_PULL * catalogue["pull"][item_idx]
                 + _PLAYS_SCENE * (fan - fan.mean()) + rng.normal(0.0, _PLAYS_NOISE, len(user_idx)))
    return np.maximum(1, np.ceil(np.exp(log_plays))).astype(np.int64)


_FIRST = ("Silver", "Black", "Velvet", "Electric", "Broken", "Golden", "Neon", "Crimson", "Hollow", "Paper",
          "Wild", "Glass", "Iron", "Midnight", "Lunar", "Static", "Young", "Northern", "Secret", "Burning",
          "Quiet", "Royal", "Savage", "Cosmic", "Frozen", "Lost", "Dead", "Sonic", "Pale", "Holy")
_SECOND = ("Wolves", "Engines", "Lanterns", "Tides", "Kings", "Ghosts", "Rivers", "Machines", "Horses", "Saints",
           "Pilots", "Daughters", "Atlas", "Echoes", "Hearts", "Arrows", "Foxes", "Satellites", "Crows", "Mirrors",
           "Orchids", "Giants", "Thieves", "Comets", "Harbors", "Sparrows", "Prophets", "Strangers", "Owls",
           "Lovers")
_PEOPLE = ("Mara", "Jonas", "Ines", "Theo", "Lena", "Kofi", "Yuki", "Nadia", "Omar", "Elif", "Sven", "Rosa",
           "Amir", "Clara", "Dmitri", "Leila", "Hugo", "Aiko", "Bruno", "Freya")
_SURNAMES = ("Vale", "Okafor", "Lind", "Moreau", "Sato", "Novak", "Reyes", "Hart", "Quinn", "Falk", "Byrne",
             "Costa", "Weiss", "Ahmed", "Kerr", "Ivers", "Lowe", "Marsh", "Dahl", "Frost")


def _names(n_items: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct band and artist names ("The Velvet Engines", "Mara Vale"), numbered beyond the word lists."""
    bands = [f"The {a} {b}" for a in _FIRST for b in _SECOND] + [f"{a} {b}" for a in _FIRST for b in _SECOND]
    people = [f"{a} {b}" for a in _PEOPLE for b in _SURNAMES]
    pool = np.array(bands + people, dtype=object)
    rng.shuffle(pool)
    names = pool[np.arange(n_items) % len(pool)]
    repeat = np.arange(n_items) // len(pool)
    suffix = np.where(repeat > 0, " " + pd.Series(repeat + 1).astype(str).to_numpy(dtype=object), "")
    return (names + suffix).astype(object)
