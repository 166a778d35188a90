"""Content features of every recommendable item, videos or not: the encoder's text tower on
the title (hashtags kept), and for the visual modality the thumbnail (or a no-media item's
cover) with the mean frame embedding. Title and cover embeddings that are missing are computed
and stored, so a corpus imported from a log alone needs no `generec index` first."""
from __future__ import annotations

import numpy as np

from core.progress import Progress
from core.store import Store

TEXT_BATCH = 256


def corpus_item_features(store: Store, items: list[str], encoder_spec: str | None,
                         progress: Progress | None = None) -> tuple[str, dict[str, np.ndarray]]:
    """The encoder's model id, and modality -> items x f: `text` always, `visual` where some
    item has an image."""
    from core.encoders import load_encoder
    from core.media import read_image
    from core.store.corpus import get_item
    from core.store.embeddings import (item_vectors, load_frame_index, register_model,
                                       save_item_vectors)

    progress = progress or Progress()
    encoder = load_encoder(encoder_spec or "bundled")
    model_id = encoder.model_id
    with store.transaction():
        register_model(store, model_id, encoder.spec, encoder.sha256, encoder.dim)
    titles = item_vectors(store, model_id, "title")
    todo = [i for i in items if i not in titles]
    for start in range(0, len(todo), TEXT_BATCH):
        progress.check_cancelled()
        progress.update(start, len(todo), "title embeddings")
        chunk = todo[start:start + TEXT_BATCH]
        texts = [(get_item(store, i) or {}).get("title") or i for i in chunk]
        vectors = encoder.encode_texts(texts)
        with store.transaction():
            save_item_vectors(store, model_id, "title", list(zip(chunk, vectors)))
        titles.update(zip(chunk, vectors))
    thumbs = item_vectors(store, model_id, "thumbnail")
    covers = [(i, item["thumbnail_path"]) for i in items if i not in thumbs
              for item in [get_item(store, i)] if item["status"] == "no-media"
              and item["thumbnail_path"]]
    if covers:
        progress.update(0, len(covers), "cover embeddings")
        vectors = encoder.encode_images([read_image(path) for _, path in covers])
        with store.transaction():
            save_item_vectors(store, model_id, "thumbnail", [(i, v) for (i, _), v in zip(covers, vectors)])
        thumbs.update((i, v) for (i, _), v in zip(covers, vectors))
    dim = encoder.dim
    features = {"text": np.stack([titles[i] for i in items]).astype(np.float32)}
    index = load_frame_index(store, model_id)
    row_of = {item_id: r for r, item_id in enumerate(index.item_ids)}
    if thumbs or row_of:
        visual = np.zeros((len(items), 2 * dim), np.float32)
        for r, item_id in enumerate(items):
            if item_id in thumbs:
                visual[r, :dim] = thumbs[item_id]
            if item_id in row_of:
                k = row_of[item_id]
                visual[r, dim:] = index.frames[k, :index.counts[k]].mean(axis=0)
        features["visual"] = visual
    return model_id, features
