"""The visual attributes of the demo corpus: what segments show and what users prefer."""
from __future__ import annotations

SCENES = ("beach", "forest", "city", "night", "desert", "snow")
SHAPES = ("circle", "square", "triangle", "star", "ring", "cross")
COLOURS = {  # RGB
    "red": (220, 40, 40),
    "orange": (245, 140, 20),
    "yellow": (240, 220, 40),
    "green": (40, 180, 60),
    "blue": (40, 90, 230),
    "purple": (150, 60, 200),
}
MOTIONS = ("still", "sliding", "bouncing", "circling", "growing")
COUNT_WORDS = {2: "two", 3: "three"}
MOTION_PHRASES = {
    "still": "resting",
    "sliding": "sliding across",
    "bouncing": "bouncing",
    "circling": "circling",
    "growing": "growing",
}
SCENE_PHRASES = {
    "beach": "on a beach",
    "forest": "in a forest",
    "city": "in a city",
    "night": "under a night sky",
    "desert": "in a desert",
    "snow": "in the snow",
}
SCENE_TITLES = {
    "beach": "at the beach",
    "forest": "in the woods",
    "city": "downtown",
    "night": "at night",
    "desert": "in the dunes",
    "snow": "in the snow",
}

CATEGORIES = ("entertainment", "education", "sports", "travel", "health")
AGE_RATINGS = ("all", "all", "all", "13+", "18+")
# (licence, whether it allows derivative works)
LICENCES = (
    ("CC-BY-4.0", True),
    ("CC-BY-SA-4.0", True),
    ("CC0-1.0", True),
    ("CC-BY-ND-4.0", False),
    ("all-rights-reserved", False),
)
CREATOR_GROUPS = ("established", "emerging")
USER_GROUPS = ("A", "B")


def plural(noun: str) -> str:
    return noun + ("es" if noun.endswith("s") else "s")


def caption(attrs: dict) -> str:
    count = attrs["count"]
    shape = plural(attrs["shape"]) if count > 1 else attrs["shape"]
    article = "an" if attrs["colour"][0] in "aeiou" else "a"
    return (f"{COUNT_WORDS.get(count, article)} {attrs['colour']} {shape} "
            f"{MOTION_PHRASES[attrs['motion']]} {SCENE_PHRASES[attrs['scene']]}")
