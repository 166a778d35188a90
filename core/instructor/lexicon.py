"""What the instructor knows of language: style names and their synonyms, intent cue words,
and a few prototype phrasings per intent for similarity matching. Written for this app, not
taken from the labelled test set in tests/data/."""
from __future__ import annotations

STYLE_SYNONYMS = {
    "cartoon": ["cartoon", "cartoony", "anime", "animated", "toon", "manga", "pixar"],
    "pencil_sketch": ["pencil", "sketch", "sketched", "drawing", "drawn", "charcoal", "graphite"],
    "watercolour": ["watercolour", "watercolor", "watercolours", "watercolors", "painted",
                    "painting", "paint", "aquarelle", "oil"],
    "comic": ["comic", "comics", "graphic novel", "pop art", "halftone", "superhero"],
    "vintage_film": ["vintage", "retro", "sepia", "old film", "old movie", "70s", "80s",
                     "film grain", "old school", "nostalgic", "super 8", "vhs"],
    "neon": ["neon", "glow", "glowing", "cyberpunk", "synthwave", "vaporwave"],
}

# Cue words and their weight per intent. Single words are matched after typo correction.
CUES: dict[str, dict[str, float]] = {
    "style": {"style": 2, "styled": 2, "restyle": 3, "look": 1, "looks": 1, "filter": 2,
              "aesthetic": 2, "vibe": 1.5, "effect": 1.5, "tone": 1, "convert": 1,
              "turn": 0.5, "transform": 1, "like": 0.3},
    "clip": {"part": 2, "clip": 1, "cut": 2.5, "trim": 3, "shorten": 3, "shorter": 3,
             "seconds": 2, "second": 1.5, "segment": 2.5, "only": 1.5, "bit": 1.5,
             "highlight": 2, "highlights": 2, "scene": 1, "portion": 2.5, "crop": 2,
             "excerpt": 2.5, "snippet": 2.5, "moment": 1.5, "best": 0.5, "version": 0.5},
    "thumbnail": {"thumbnail": 4, "thumbnails": 4, "thumb": 3.5, "cover": 3.5, "poster": 3, "preview": 2,
                  "frame": 2, "still": 1.5, "image": 1.5, "picture": 1.5, "icon": 2},
    "revise": {"revise": 4, "revised": 4, "brighter": 3, "darker": 3, "remove": 2.5, "replace": 3, "change": 1,
               "fix": 2, "improve": 2, "better": 1, "calmer": 2.5, "colour": 1, "color": 1,
               "colours": 1, "colors": 1, "background": 1.5, "edit": 2, "adjust": 2.5,
               "swap": 2.5, "warmer": 3, "cooler": 3, "saturated": 2.5, "sharper": 3,
               "slower": 2.5, "faster": 2.5, "tweak": 2.5, "modify": 2.5, "enhance": 2.5,
               "less": 1, "more": 0.5, "instead": 1.5, "without": 1.5, "add": 1},
    "create": {"create": 3, "make": 1, "generate": 3, "new": 2, "brand": 1.5,
               "produce": 2.5, "render": 2, "invent": 2.5, "imagine": 2, "compose": 2,
               "build": 1.5, "design": 2, "original": 1.5, "animation": 1},
    "retrieve": {"show": 1.5, "find": 3, "search": 3, "recommend": 3, "suggest": 2.5,
                 "more": 1.5, "similar": 3, "other": 1.5, "others": 1.5, "another": 1,
                 "next": 2, "videos": 1.5, "browse": 3, "explore": 2.5, "watch": 1.5,
                 "feed": 2, "anything": 1, "something": 1},
    "chat": {"thanks": 4, "thank": 4, "thx": 4, "ty": 3, "hello": 4, "hi": 3, "hey": 2.5,
             "ok": 3, "okay": 3, "cool": 3, "nice": 2.5, "great": 2, "awesome": 2.5,
             "love": 1.5, "lol": 3, "bye": 4, "good": 1.5, "yes": 1.5, "no": 1.5,
             "what": 1, "how": 1, "why": 1.5, "help": 2, "who": 1.5, "amazing": 2, "wow": 3,
             "perfect": 2, "sure": 2, "fine": 2, "dont": 0.5, "like": 0.3},
}

# A few phrasings per intent; similarity to these (character n-grams) backs up the cues.
PROTOTYPES: dict[str, list[str]] = {
    "style": ["make it look like a cartoon", "apply a watercolour style", "change the look of this",
              "turn the video into a sketch", "give it a retro film effect", "restyle it neon"],
    "clip": ["only show the part with the dog", "cut it down to ten seconds",
             "trim the video to the best moment", "keep just the segment where it jumps",
             "make a shorter version"],
    "thumbnail": ["choose a better thumbnail", "use the frame with the cat as cover",
                  "change the preview image", "pick another cover picture"],
    "revise": ["make it brighter", "remove the background", "replace the car with a bike",
               "make the colours warmer", "fix the lighting", "make it calmer and slower"],
    "create": ["create a new video of a beach at sunset", "generate a clip of mountains",
               "make me a brand new video about space", "produce an animation of a city"],
    "retrieve": ["show me more videos like this", "find videos with cats",
                 "recommend something funny", "what else is there to watch",
                 "search for cooking videos"],
    "chat": ["thanks", "hello there", "ok cool", "that's nice", "how does this work", "bye"],
}

ORDINALS = {"first": 0, "1st": 0, "one": 0, "second": 1, "2nd": 1, "two": 1, "third": 2,
            "3rd": 2, "three": 2, "fourth": 3, "4th": 3, "four": 3, "fifth": 4, "5th": 4,
            "sixth": 5, "6th": 5, "last": -1}
