"""Our decoding loop against ``model.generate`` on a tiny random Llama (fast, no model file)."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from simulator.models.decoding import BLOCK, PrefixCache, decode, sample  # noqa: E402


@pytest.fixture(scope="module")
def tiny() -> Any:
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=97,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
    )
    return transformers.LlamaForCausalLM(config).eval()


def prompt(length: int, offset: int = 0) -> list[int]:
    return [(7 * i + offset) % 90 + 5 for i in range(length)]


def reference(model: Any, ids: list[int], steps: int) -> list[list[int]]:
    with torch.inference_mode():
        out = model.generate(
            torch.tensor([ids]),
            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            max_new_tokens=steps,
            min_new_tokens=steps,
            do_sample=False,
            pad_token_id=0,
        )
    return [row[len(ids) :].tolist() for row in out]


def run(model: Any, ids: list[int], **kwargs: Any) -> list[list[int]]:
    defaults: dict[str, Any] = {
        "n": 1,
        "max_new_tokens": 12,
        "temperature": 0.0,
        "top_p": 1.0,
        "seed": 0,
        "stop_ids": [],
    }
    with torch.inference_mode():
        *_, rows = decode(model, ids, **{**defaults, **kwargs})
    return [list(r) for r in rows]


def test_greedy_matches_generate_across_block_boundaries(tiny: Any) -> None:
    for length in (3, BLOCK, BLOCK + 1, 3 * BLOCK + 5):
        ids = prompt(length)
        assert run(tiny, ids, n=2) == reference(tiny, ids, 12) * 2


def test_prefix_cache_reuses_blocks_and_changes_nothing(tiny: Any) -> None:
    cache = PrefixCache()
    first = prompt(2 * BLOCK + 9)
    second = first[: 2 * BLOCK + 3] + prompt(20, offset=3)
    cold = run(tiny, second, temperature=0.8, top_p=0.9, seed=5, n=3)
    run(tiny, first, prefix_cache=cache)
    warm = run(tiny, second, temperature=0.8, top_p=0.9, seed=5, n=3, prefix_cache=cache)
    assert cache.hits == 1 and cache.reused_tokens == 2 * BLOCK
    assert warm == cold


def test_same_seed_same_rows_and_rows_stop_at_stop_ids(tiny: Any) -> None:
    ids = prompt(40)
    first = run(tiny, ids, temperature=1.0, top_p=0.95, seed=3, n=4, max_new_tokens=20)
    again = run(tiny, ids, temperature=1.0, top_p=0.95, seed=3, n=4, max_new_tokens=20)
    assert first == again
    other = run(tiny, ids, temperature=1.0, top_p=0.95, seed=4, n=4, max_new_tokens=20)
    assert other != first
    stop = first[0][2]
    stopped = run(
        tiny, ids, temperature=1.0, top_p=0.95, seed=3, n=4, max_new_tokens=20, stop_ids=[stop]
    )
    for row in stopped:
        # A row ends at (and keeps) its first stop token, or runs to the limit without one.
        assert stop not in row[:-1]
        assert row[-1] == stop or len(row) == 20
    assert stopped[0] == first[0][:3]


def test_decoding_stops_once_enough_rows_have_finished(tiny: Any) -> None:
    ids = prompt(40)
    sampled = {"temperature": 1.0, "top_p": 0.95, "seed": 3, "n": 6, "max_new_tokens": 20}
    free = run(tiny, ids, **sampled)
    # The stop token that ends the second-shortest row early: two rows finish by then.
    stop = sorted((row[4] for row in free), key=lambda t: sum(t in r for r in free))[-1]
    full = run(tiny, ids, stop_ids=[stop], **sampled)
    ended = sorted(len(r) for r in full if r[-1] == stop)
    assert len(ended) >= 2, "the fixture needs two rows that stop"
    quick = run(tiny, ids, stop_ids=[stop], enough_finished=2, **sampled)
    # Every row is the same sampled text, cut where the second row ended.
    for fast, slow in zip(quick, full, strict=True):
        assert fast == slow[: len(fast)]
        assert len(fast) <= ended[1]
    assert sum(1 for r in quick if r[-1] == stop) >= 2


def test_nucleus_sampling_never_picks_outside_the_nucleus() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    generator = torch.Generator().manual_seed(0)
    picks = {int(sample(logits, 1.0, 0.7, generator)) for _ in range(200)}
    assert picks == {0, 1}
    assert int(sample(logits, 0.0, 0.7, generator)) == 0


def test_prefix_cache_keeps_at_most_max_entries_and_drops_subsumed_ones() -> None:
    cache = PrefixCache(max_entries=2)
    layer = [(torch.zeros(1, 1, 2 * BLOCK, 1), torch.zeros(1, 1, 2 * BLOCK, 1))]
    cache.store(list(range(BLOCK)), layer)
    cache.store(list(range(2 * BLOCK)), layer)
    assert len(cache._entries) == 1
    cache.store([5] * BLOCK, layer)
    cache.store([6] * BLOCK, layer)
    assert len(cache._entries) == 2
    length, found = cache.lookup([6] * BLOCK + [1])
    assert length == BLOCK and found is not None and found[0][0].shape[2] == BLOCK
    assert cache.lookup([9] * (BLOCK + 1)) == (0, None)


def test_nucleus_wider_than_the_shortlist_falls_back_to_the_whole_vocabulary() -> None:
    # 200 equally likely tokens: the 64-token shortlist holds 32% of the mass, so the nucleus
    # (top_p 0.9: 180 tokens) must come from sorting the whole vocabulary.
    logits = torch.zeros(2, 200)
    generator = torch.Generator().manual_seed(0)
    picks = {int(t) for _ in range(300) for t in sample(logits, 1.0, 0.9, generator)}
    assert len(picks) > 100


def test_prompts_decoded_together_match_each_decoded_alone(tiny: Any) -> None:
    from simulator.models.decoding import Job, decode_batch

    prompts = [prompt(40), prompt(71, offset=3), prompt(9, offset=5)]
    greedy = {"temperature": 0.0, "top_p": 1.0, "seed": 0}
    jobs = [Job(ids, n=2, max_new_tokens=10 + i, **greedy) for i, ids in enumerate(prompts)]
    with torch.inference_mode():
        decode_batch(tiny, jobs, stop_ids=[], prefix_cache=None)
    for i, (ids, job) in enumerate(zip(prompts, jobs, strict=True)):
        assert job.done
        alone = run(tiny, ids, n=2, max_new_tokens=10 + i, **greedy)
        assert job.rows == alone, i


def test_a_batched_job_keeps_its_own_seed_and_stopping_rules(tiny: Any) -> None:
    from simulator.models.decoding import Job, decode_batch

    sampled = {"temperature": 1.0, "top_p": 0.95, "seed": 3, "n": 6, "max_new_tokens": 20}
    ids = prompt(40)
    free = run(tiny, ids, **sampled)
    stop = sorted((row[4] for row in free), key=lambda t: sum(t in r for r in free))[-1]
    alone = run(tiny, ids, stop_ids=[stop], enough_finished=2, **sampled)
    jobs = [Job(ids, enough_finished=2, **sampled), Job(prompt(30, offset=1), **sampled)]
    with torch.inference_mode():
        decode_batch(tiny, jobs, stop_ids=[stop], prefix_cache=None)
    assert jobs[0].rows == alone
    assert all(len(row) <= 20 for row in jobs[1].rows)
