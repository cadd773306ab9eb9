"""LoRA fine-tune of the embedded persona model for role-play (an experiment).

    python -m simulator.persona.voice_training --out DIR [--steps N] [--seed S] [--resume]

Each turn of ``data/roleplay/dialogues.jsonl`` becomes one example, prompted exactly as the
engine prompts the model (``simulator.persona.voice.build_messages``): the persona card as the
system message, "(<learner role> comes over to talk to you.)", the opening line, up to
``HISTORY_EXCHANGES`` earlier exchanges of the same dialogue, then the trainee's line with the
beat to get across. Only the reply (and the end-of-turn token after it) is learned: every
prompt token has label -100. Dialogues marked ``"split": "held-out"`` (two whole workplaces)
are never trained on; their loss is reported as the held-out loss.

LoRA (r=8, alpha=16, dropout 0.05) on the attention projections of the converted embedded model
(the float32 folder ``simulator.models.hf`` makes from the GGUF). AdamW, cosine schedule after a
short warm-up, batches of ``BATCH_SIZE`` padded examples of at most ``MAX_LENGTH`` tokens.

Seeded (Python, NumPy and torch) and resumable: every ``--save-every`` steps the adapter, the
optimizer, the step and the random states go to ``DIR/checkpoint``; ``--resume`` carries on from
there, drawing the same batches it would have drawn without the stop. The finished adapter is
``DIR/adapter_model.safetensors`` + ``DIR/adapter_config.json`` (peft's ``save_pretrained``), with
the losses in ``DIR/metrics.json``.

Needs the optional ``train`` dependencies (``pip install -e .[train]``: peft). torch,
transformers and peft are imported inside functions, so importing this module stays light.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).parent / "data" / "roleplay" / "dialogues.jsonl"
HISTORY_EXCHANGES = 3
"""Earlier exchanges kept in the prompt; the same number as the engine's prompt."""

LORA_R = 8
LORA_ALPHA = 16
LORA_DROPOUT = 0.05
TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
LEARNING_RATE = 2e-4
BATCH_SIZE = 8
MAX_LENGTH = 384
DEFAULT_STEPS = 540
"""About three passes over the training turns."""
WARMUP_SHARE = 0.05
CHECKPOINT = "checkpoint"
IGNORE = -100


@dataclass(frozen=True)
class Example:
    """One persona reply in context: the chat before it, and the reply to learn."""

    dialogue: str
    messages: tuple[dict[str, str], ...]
    reply: str


def read_dialogues(path: Path = DATA_FILE) -> list[dict[str, Any]]:
    """Every dialogue in the corpus, in file order."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def system_message(dialogue: dict[str, Any], mood: str) -> str:
    """The persona card, worded as the engine words it."""
    persona = dialogue["persona"]
    return (
        f"You are {persona['name']}, {persona['role']}. {persona['background'].strip()} "
        f"You are talking with your {dialogue['learner_role'].lower()} at work. "
        f"How you speak: {persona['speaking_style'].strip()} "
        f"Right now: {mood.strip()}"
    )


def turn_messages(
    dialogue: dict[str, Any], index: int, history: int = HISTORY_EXCHANGES
) -> tuple[dict[str, str], ...]:
    """The chat the model sees before reply ``index`` of ``dialogue``."""
    persona = dialogue["persona"]
    turn = dialogue["turns"][index]
    first_name = persona["name"].split()[0]
    messages = [
        {"role": "system", "content": system_message(dialogue, turn["mood"])},
        {"role": "user", "content": f"({dialogue['learner_role']} comes over to talk to you.)"},
        {"role": "assistant", "content": persona["opening_line"]},
    ]
    earlier = dialogue["turns"][:index][-history:] if history > 0 else []
    for before in earlier:
        messages.append({"role": "user", "content": before["learner"]})
        messages.append({"role": "assistant", "content": before["reply"]})
    messages.append(
        {
            "role": "user",
            "content": f"{turn['learner']}\n\n(Reply as {first_name}, in one or two short "
            f"sentences, getting across: {turn['beat']})",
        }
    )
    return tuple(messages)


def examples(dialogues: Sequence[dict[str, Any]], split: str) -> list[Example]:
    """One example per turn of the dialogues in ``split`` (``train`` or ``held-out``)."""
    return [
        Example(d["id"], turn_messages(d, i), t["reply"])
        for d in dialogues
        if d.get("split", "train") == split
        for i, t in enumerate(d["turns"])
    ]


@dataclass(frozen=True)
class Encoded:
    """Token ids of one example, with the prompt masked out of the labels."""

    input_ids: list[int]
    labels: list[int]
    shortened: bool
    """Whether earlier exchanges were dropped (or the prompt cut) to fit ``MAX_LENGTH``."""


def encode(example: Example, tokenizer: Any, max_length: int = MAX_LENGTH) -> Encoded:
    """Tokenise an example with the chat template; only the reply tokens carry labels.

    The reply is what the template puts after the generation prompt: the reply text and the
    end-of-turn token (the template's trailing newline is left out). An example too long for
    ``max_length`` loses its oldest exchanges first, then the start of its prompt.
    """
    messages = list(example.messages)
    shortened = False
    while True:
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(
            [*messages, {"role": "assistant", "content": example.reply}], tokenize=False
        )
        if not full.startswith(prompt):
            raise ValueError("the chat template does not extend the prompt with the reply")
        completion = full[len(prompt) :].rstrip("\n")
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        reply_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        too_long = len(prompt_ids) + len(reply_ids) - max_length
        # messages: system, opener, opening line, (learner, reply)*, final learner line
        if too_long > 0 and len(messages) > 4:
            del messages[3:5]
            shortened = True
            continue
        break
    if too_long > 0:
        prompt_ids = prompt_ids[too_long:]
        shortened = True
    return Encoded(
        [*prompt_ids, *reply_ids], [IGNORE] * len(prompt_ids) + list(reply_ids), shortened
    )


def collate(batch: Sequence[Encoded], pad_id: int, torch: Any) -> dict[str, Any]:
    """Right-padded tensors: input ids, attention mask, labels (-100 on padding)."""
    width = max(len(e.input_ids) for e in batch)
    ids = [e.input_ids + [pad_id] * (width - len(e.input_ids)) for e in batch]
    mask = [[1] * len(e.input_ids) + [0] * (width - len(e.input_ids)) for e in batch]
    labels = [e.labels + [IGNORE] * (width - len(e.labels)) for e in batch]
    return {
        "input_ids": torch.tensor(ids, dtype=torch.long),
        "attention_mask": torch.tensor(mask, dtype=torch.long),
        "labels": torch.tensor(labels, dtype=torch.long),
    }


def batch_indices(n_examples: int, step: int, seed: int, batch_size: int = BATCH_SIZE) -> list[int]:
    """The examples of training step ``step`` (0-based): a seeded shuffle per pass, so a
    resumed run draws exactly the batches an uninterrupted one would."""
    per_epoch = max(1, n_examples // batch_size)
    epoch, position = divmod(step, per_epoch)
    order = list(range(n_examples))
    random.Random(seed * 100_003 + epoch).shuffle(order)
    return order[position * batch_size : (position + 1) * batch_size]


def learning_rate(step: int, total: int, peak: float = LEARNING_RATE) -> float:
    """Linear warm-up, then cosine decay to zero at ``total`` steps (``step`` is 0-based)."""
    warmup = max(1, round(WARMUP_SHARE * total))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_model(source: str | None) -> tuple[Any, Any, str]:
    """(tokenizer, float32 causal LM, folder) for ``source`` (None: the embedded model,
    converted from its GGUF once by ``simulator.models.hf``)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from simulator.models.hf import resolve_source

    folder, _name = resolve_source(source)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model, folder


def add_lora(model: Any) -> Any:
    """Wrap the model with fresh LoRA adapters on the attention projections."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=LORA_R,
        lora_alpha=LORA_ALPHA,
        lora_dropout=LORA_DROPOUT,
        target_modules=list(TARGET_MODULES),
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def batches(encoded: Sequence[Encoded], size: int) -> Iterator[list[Encoded]]:
    """``encoded`` in order, ``size`` at a time."""
    for start in range(0, len(encoded), size):
        yield list(encoded[start : start + size])


def evaluate(model: Any, encoded: Sequence[Encoded], pad_id: int, device: Any) -> float:
    """Mean loss per reply token over ``encoded`` (dropout off)."""
    import torch
    import torch.nn.functional as functional

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for chunk in batches(encoded, BATCH_SIZE):
            inputs = {k: v.to(device) for k, v in collate(chunk, pad_id, torch).items()}
            labels = inputs.pop("labels")
            logits = model(**inputs).logits[:, :-1, :].float()
            targets = labels[:, 1:]
            loss = functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                targets.reshape(-1),
                ignore_index=IGNORE,
                reduction="sum",
            )
            total += float(loss)
            count += int((targets != IGNORE).sum())
    if was_training:
        model.train()
    return total / max(1, count)


def _random_states() -> dict[str, Any]:
    import numpy as np
    import torch

    states: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def _restore_random_states(states: dict[str, Any]) -> None:
    import numpy as np
    import torch

    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_checkpoint(out: Path, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
    """Adapter, optimizer, step and random states to ``out/checkpoint`` (replaced whole)."""
    import torch

    target = out / CHECKPOINT
    partial = out / (CHECKPOINT + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    model.save_pretrained(str(partial / "adapter"))
    torch.save(optimizer.state_dict(), partial / "optimizer.pt")
    torch.save(_random_states(), partial / "random_states.pt")
    (partial / "state.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    old = out / (CHECKPOINT + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.replace(old)
    partial.replace(target)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(out: Path, model: Any, optimizer: Any) -> dict[str, Any]:
    """Put a saved adapter, optimizer and random states back; the saved state dict."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    folder = out / CHECKPOINT
    weights = load_file(str(folder / "adapter" / "adapter_model.safetensors"))
    result = set_peft_model_state_dict(model, weights)
    missing = [k for k in getattr(result, "missing_keys", []) if "lora_" in k]
    if missing:
        raise RuntimeError(f"checkpoint adapter lacks {len(missing)} LoRA weights: {missing[:3]}")
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=False))
    _restore_random_states(torch.load(folder / "random_states.pt", weights_only=False))
    state: dict[str, Any] = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    return state


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.persona.voice_training",
        description="LoRA fine-tune of the embedded persona model on the role-play corpus.",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for adapter and logs")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="optimizer steps")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--resume", action="store_true", help="carry on from OUT/checkpoint")
    parser.add_argument("--save-every", type=int, default=50, help="checkpoint every K steps")
    parser.add_argument("--eval-every", type=int, default=100, help="held-out loss every K steps")
    parser.add_argument("--log-every", type=int, default=10, help="train loss every K steps")
    parser.add_argument(
        "--eval-limit",
        type=int,
        default=0,
        help="evaluate on at most N held-out turns (0: all; a CPU pass over all takes minutes)",
    )
    parser.add_argument("--data", type=Path, default=DATA_FILE)
    parser.add_argument("--model", default=None, help="model source (default: embedded)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import peft  # noqa: F401
        import torch
    except ImportError as exc:
        print(f"voice_training needs the train extras ({exc}): pip install -e .[train]")
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    )
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(args.seed)

    dialogues = read_dialogues(args.data)
    train_examples, held_examples = examples(dialogues, "train"), examples(dialogues, "held-out")
    tokenizer, base, folder = load_model(args.model)
    train = [encode(e, tokenizer) for e in train_examples]
    held = [encode(e, tokenizer) for e in held_examples]
    # A spread of held-out turns when limited: every k-th, so both workplaces are in it.
    held_eval = (
        held[:: max(1, len(held) // args.eval_limit)][: args.eval_limit]
        if args.eval_limit
        else held
    )
    pad_id = int(tokenizer.pad_token_id)
    print(
        f"base {folder}\n{len(train)} training turns, {len(held)} held-out turns "
        f"({sum(e.shortened for e in train + held)} shortened to {MAX_LENGTH} tokens); "
        f"longest {max(len(e.input_ids) for e in train + held)} tokens; device {device}",
        flush=True,
    )

    model = add_lora(base).to(device)
    model.print_trainable_parameters()
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE
    )
    step = 0
    history: list[dict[str, Any]] = []
    if args.resume:
        if not (out / CHECKPOINT / "state.json").is_file():
            print(f"nothing to resume: no {out / CHECKPOINT}", file=sys.stderr)
            return 1
        saved = load_checkpoint(out, model, optimizer)
        if saved["seed"] != args.seed:
            print(f"the checkpoint was made with --seed {saved['seed']}", file=sys.stderr)
            return 1
        step, history = int(saved["step"]), list(saved.get("history", []))
        print(f"resumed at step {step} (of {args.steps})", flush=True)

    model.train()
    window: list[float] = []
    started = time.perf_counter()
    first_step = step
    while step < args.steps:
        lr = learning_rate(step, args.steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        chunk = [train[i] for i in batch_indices(len(train), step, args.seed)]
        inputs = {k: v.to(device) for k, v in collate(chunk, pad_id, torch).items()}
        loss = model(**inputs).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        window.append(float(loss.detach()))
        if step % args.log_every == 0 or step == args.steps:
            per_step = (time.perf_counter() - started) / (step - first_step)
            mean = sum(window) / len(window)
            history.append({"step": step, "train_loss": mean, "lr": lr})
            print(
                f"step {step}/{args.steps}  train loss {mean:.4f}  lr {lr:.2e}  "
                f"{per_step:.2f} s/step",
                flush=True,
            )
            window = []
        if args.eval_every and step % args.eval_every == 0 and step < args.steps:
            held_loss = evaluate(model, held_eval, pad_id, device)
            history.append({"step": step, "held_out_loss": held_loss})
            print(f"step {step}  held-out loss {held_loss:.4f}", flush=True)
        if step % args.save_every == 0 or step == args.steps:
            state = {"step": step, "total_steps": args.steps, "seed": args.seed}
            save_checkpoint(out, model, optimizer, {**state, "history": history})
            print(f"checkpoint at step {step}: {out / CHECKPOINT}", flush=True)

    elapsed = time.perf_counter() - started
    held_loss = evaluate(model, held_eval, pad_id, device)
    train_eval = train[:: max(1, len(train) // len(held_eval))][: len(held_eval)]
    train_loss = evaluate(model, train_eval, pad_id, device)
    print(
        f"done: step {step}; held-out loss {held_loss:.4f} ({len(held_eval)} turns); "
        f"train loss {train_loss:.4f} ({len(train_eval)} turns, dropout off)",
        flush=True,
    )
    model.save_pretrained(str(out))
    metrics = {
        "steps": step,
        "seed": args.seed,
        "base": folder,
        "train_turns": len(train),
        "held_out_turns": len(held),
        "held_out_turns_evaluated": len(held_eval),
        "held_out_loss": held_loss,
        "train_loss_sample": train_loss,
        "seconds_per_step": elapsed / max(1, step - first_step),
        "history": history,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(f"adapter: {out / 'adapter_model.safetensors'}, {out / 'adapter_config.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
