"""Image and text encoders (CLIP f_θ): bundled, local open_clip weights, or pretrained tags."""
from core.encoders.encoder import Encoder, EncoderError, file_sha256, load_encoder

__all__ = ["Encoder", "EncoderError", "file_sha256", "load_encoder"]
