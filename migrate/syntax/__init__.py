"""The text layers the file kinds read through: YAML with exact spans (the pure composer and
libyaml's fast path), the prefilter that skips texts holding no image, JSON with comments, and
Compose's `.env` syntax."""
