"""The AI editor's and creator's diffusion models (DESIGN.md section 4): an MCVD-style masked
conditional video diffusion model that predicts, generates and revises blocks of frames, and a
retrieval-conditioned image diffusion model for thumbnails. Both are trained on the corpus."""
