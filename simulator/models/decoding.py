"""Our own decoding loop for the transformers backend: prefill once, share it, stop early.

``model.generate(num_return_sequences=n)`` copies the prompt ``n`` times *before* the prefill, so
a 350-token persona prompt costs six 350-token forward passes before the first new token. Here
the prompt is run once (batch 1), its KV cache is repeated for the ``n`` candidates, and the
candidates are decoded as one batch, finished rows dropping out of it. The prompt's KV cache is
also kept between calls (:class:`PrefixCache`): the persona card and the start of the
conversation do not change from one turn to the next, so only the new lines are run.

Determinism: the prompt is always run in fixed blocks of :data:`BLOCK` tokens, whether or not
a block's cache was found, so a cached block holds exactly the numbers a fresh run would
compute and the same seed gives the same reply in a fresh process or a warm one. Sampling uses
a private ``torch.Generator``, so concurrent sessions do not disturb each other's seeds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

BLOCK = 32
"""Prefill block size in tokens (the granularity of prefix reuse)."""


class PrefixCache:
    """A small LRU of prompt KV caches, keyed by the prompt's tokens up to a block boundary.

    Entries hold per-layer ``(keys, values)`` tensors of batch 1. They are never written to:
    a cache built from an entry takes views of them and grows by concatenation.
    """

    def __init__(self, max_entries: int = 8) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, ...], list[tuple[Any, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.reused_tokens = 0

    def lookup(self, ids: Sequence[int]) -> tuple[int, list[tuple[Any, Any]] | None]:
        """The longest block-aligned cached prefix of ``ids`` (leaving at least one token)."""
        best, best_layers = 0, None
        with self._lock:
            for key, layers in self._entries.items():
                length = _common_blocks(key, ids)
                if length > best:
                    best, best_layers, best_key = length, layers, key
            if best_layers is None:
                return 0, None
            self._entries.move_to_end(best_key)
            self.hits += 1
            self.reused_tokens += best
        return best, [(k[:, :, :best], v[:, :, :best]) for k, v in best_layers]

    def store(self, ids: Sequence[int], layers: list[tuple[Any, Any]]) -> None:
        """Keep the KV of ``ids`` (already cut to a block boundary)."""
        if not ids:
            return
        key = tuple(ids)
        with self._lock:
            # An entry that is a prefix of the new one is subsumed by it.
            for old in [k for k in self._entries if len(k) <= len(key) and key[: len(k)] == k]:
                del self._entries[old]
            self._entries[key] = layers
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


def _common_blocks(key: Sequence[int], ids: Sequence[int]) -> int:
    limit = min(len(key), len(ids) - 1)
    length = 0
    while length < limit and key[length] == ids[length]:
        length += 1
    return (length // BLOCK) * BLOCK


NUCLEUS_SHORTLIST = 64
"""Nucleus sampling looks for the nucleus among this many most likely tokens first."""


def sample(logits: Any, temperature: float, top_p: float, generator: Any) -> Any:
    """One token per row: greedy at temperature 0, else temperature + nucleus sampling.

    The nucleus is almost always a handful of tokens, so it is looked for in a short list of
    the most likely ones (``topk``) rather than by sorting the whole vocabulary; when the short
    list does not reach ``top_p`` for some row, the whole vocabulary is sorted. Either way the
    kept tokens and their probabilities are exactly the nucleus.
    """
    import torch

    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if 0 < top_p < 1:
        shortlist = min(NUCLEUS_SHORTLIST, probs.shape[-1])
        top_probs, order = probs.topk(shortlist, dim=-1)
        if not bool((top_probs.sum(dim=-1) >= top_p).all()):
            top_probs, order = probs.sort(dim=-1, descending=True)
        # Keep the smallest set of tokens whose mass reaches top_p (always the most likely).
        drop = top_probs.cumsum(dim=-1) - top_probs > top_p
        top_probs = top_probs.masked_fill(drop, 0.0)
        picked = torch.multinomial(top_probs, 1, generator=generator)
        return order.gather(-1, picked).squeeze(-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def _generator(seed: int | None) -> Any:
    """A private random generator, seeded when asked (so concurrent sessions keep their seeds)."""
    import torch

    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def prefill(model: Any, ids: list[int], prefix_cache: PrefixCache | None) -> tuple[Any, Any]:
    """Run the prompt in blocks, reusing a cached prefix; (cache, last-position logits)."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    start = 0
    if prefix_cache is not None:
        start, layers = prefix_cache.lookup(ids)
        if layers is not None:
            cache = DynamicCache(ddp_cache_data=layers, config=model.config)
    logits = None
    position = start
    while position < len(ids):
        end = min(len(ids), (position // BLOCK + 1) * BLOCK)
        chunk = torch.tensor([ids[position:end]])
        out = model(
            input_ids=chunk,
            cache=cache,
            use_cache=True,
            position_ids=torch.arange(position, end).unsqueeze(0),
            logits_to_keep=1,
        )
        logits = out.logits[:, -1]
        position = end
    if prefix_cache is not None:
        boundary = ((len(ids) - 1) // BLOCK) * BLOCK
        if boundary > start:
            kv: list[Any] = list(cache.layers)
            prefix_cache.store(
                ids[:boundary],
                [(layer.keys[:, :, :boundary], layer.values[:, :, :boundary]) for layer in kv],
            )
    return cache, logits


def decode(
    model: Any,
    ids: list[int],
    *,
    n: int,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    seed: int | None,
    stop_ids: Sequence[int],
    prefix_cache: PrefixCache | None = None,
    enough_finished: int = 0,
) -> Iterator[list[list[int]]]:
    """Generate ``n`` continuations of ``ids`` as one batch; yields all rows after each step.

    A row ends at its first stop token (which is kept, as ``generate`` keeps it); finished rows
    leave the batch so later steps run only the rows still talking. With ``enough_finished``
    above 0, decoding stops once that many rows have ended, leaving the others unfinished.
    """
    import torch

    generator = _generator(seed)
    stops = torch.tensor(sorted(set(stop_ids)), dtype=torch.long)
    rows: list[list[int]] = [[] for _ in range(n)]
    cache, logits = prefill(model, ids, prefix_cache)
    if max_new_tokens <= 0:
        yield rows
        return
    if n > 1:
        cache.batch_repeat_interleave(n)
        logits = logits.expand(n, -1)
    active = torch.arange(n)
    position = len(ids)
    for step in range(max_new_tokens):
        tokens = sample(logits, temperature, top_p, generator)
        done = torch.isin(tokens, stops)
        for row, token in zip(active.tolist(), tokens.tolist(), strict=True):
            rows[row].append(token)
        yield rows
        if step == max_new_tokens - 1:
            break
        if bool(done.any()):
            keep = (~done).nonzero().squeeze(-1)
            if keep.numel() == 0 or 0 < enough_finished <= n - keep.numel():
                break
            active, tokens = active[keep], tokens[keep]
            cache.batch_select_indices(keep)
        out = model(
            input_ids=tokens.unsqueeze(-1),
            cache=cache,
            use_cache=True,
            position_ids=torch.full((len(active), 1), position),
            logits_to_keep=1,
        )
        logits = out.logits[:, -1]
        position += 1


@dataclass
class Job:
    """One request in a batch of concurrent ones (see :func:`decode_batch`)."""

    ids: list[int]
    n: int
    max_new_tokens: int
    temperature: float
    top_p: float
    seed: int | None
    enough_finished: int = 0
    rows: list[list[int]] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False


def decode_batch(
    model: Any, jobs: Sequence[Job], *, stop_ids: Sequence[int], prefix_cache: PrefixCache | None
) -> None:
    """Decode the candidates of several prompts as one batch; fills each job's ``rows``.

    Concurrent sessions wait for one another behind the model's lock; a decoding step of 24
    rows costs well under four steps of 6 (the weights are read once per step), so their
    candidates are decoded together. Each prompt is prefilled on its own (reusing the prefix
    cache), the caches are left-padded to one length and the padding is masked out; every job
    keeps its own seeded generator and stopping rules. Padding changes the arithmetic slightly,
    so a seeded reply repeats exactly only when it was decoded alone (:func:`decode`).
    """
    import torch
    from torch.nn import functional
    from transformers import DynamicCache

    stops = torch.tensor(sorted(set(stop_ids)), dtype=torch.long)
    prefilled = [prefill(model, job.ids, prefix_cache) for job in jobs]
    longest = max(len(job.ids) for job in jobs)
    pads = [(0, 0, longest - len(job.ids), 0) for job in jobs]
    layers: list[tuple[Any, Any]] = []
    # One model layer at a time: that layer of every job's cache, padded and repeated per row.
    for depth in zip(*(cache.layers for cache, _ in prefilled), strict=True):
        keys, values = [], []
        for job, pad, layer in zip(jobs, pads, depth, strict=True):
            keys.append(functional.pad(layer.keys, pad).repeat_interleave(job.n, dim=0))
            values.append(functional.pad(layer.values, pad).repeat_interleave(job.n, dim=0))
        layers.append((torch.cat(keys), torch.cat(values)))
    cache = DynamicCache(ddp_cache_data=layers, config=model.config)
    owner = torch.cat([torch.full((job.n,), j) for j, job in enumerate(jobs)])
    slot = torch.cat([torch.arange(job.n) for job in jobs])
    mask = torch.zeros(len(owner), longest, dtype=torch.long)
    for j, job in enumerate(jobs):
        mask[owner == j, longest - len(job.ids) :] = 1
    position = torch.tensor([len(jobs[int(j)].ids) for j in owner])
    logits = torch.cat([lg.expand(job.n, -1) for job, (_, lg) in zip(jobs, prefilled, strict=True)])
    generators = [_generator(job.seed) for job in jobs]
    for job in jobs:
        job.rows = [[] for _ in range(job.n)]
    finished = [0] * len(jobs)
    for step in range(max(job.max_new_tokens for job in jobs)):
        tokens = torch.empty(len(owner), dtype=torch.long)
        for j, job in enumerate(jobs):
            mine = (owner == j).nonzero().squeeze(-1)
            if mine.numel():
                tokens[mine] = sample(logits[mine], job.temperature, job.top_p, generators[j])
        done = torch.isin(tokens, stops)
        for j, s, token, ended in zip(
            owner.tolist(), slot.tolist(), tokens.tolist(), done.tolist(), strict=True
        ):
            jobs[j].rows[s].append(token)
            finished[j] += int(ended)
        keep = ~done
        for j, job in enumerate(jobs):
            over = step >= job.max_new_tokens - 1
            if over or 0 < job.enough_finished <= finished[j]:
                keep &= owner != j
        if not bool(keep.any()):
            break
        if not bool(keep.all()):
            index = keep.nonzero().squeeze(-1)
            owner, slot, tokens = owner[index], slot[index], tokens[index]
            mask, position = mask[index], position[index]
            cache.batch_select_indices(index)
        mask = torch.cat([mask, torch.ones(len(owner), 1, dtype=torch.long)], dim=1)
        out = model(
            input_ids=tokens.unsqueeze(-1),
            cache=cache,
            use_cache=True,
            attention_mask=mask,
            position_ids=position.unsqueeze(-1),
            logits_to_keep=1,
        )
        logits = out.logits[:, -1]
        position = position + 1
    for job in jobs:
        job.done = True
