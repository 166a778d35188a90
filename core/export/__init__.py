"""The export gate: nothing leaves the app unless a human approved it."""
