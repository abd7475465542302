"""Metadata that local image-generation pipelines write into their pictures (PNG text
chunks, EXIF UserComment): AUTOMATIC1111/Forge/SD.Next, ComfyUI, InvokeAI, NovelAI, Fooocus,
SwarmUI; the same fields hidden in the alpha channel (rempart.provenance.stealth). Pure: text
in, signals out; JSON is parsed bounded, never executed or unpickled."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from rempart.i18n import Phrase
from rempart.provenance.signals import Signal, Verdict

__all__ = ["MAX_TEXT", "generator_signals"]

MAX_TEXT = 1024 * 1024
_MAX_VALUE = 200
_A1111 = re.compile(r"(?:^|\n|, )Steps: \d+, ")
_A1111_FIELD = re.compile(r"(?:^|, |\n)(Model|Model hash|Seed|Sampler|Version): ([^,\n]{1,200})")
_COMFY_MODEL_INPUTS = ("ckpt_name", "unet_name", "model_name")
_COMFY_SEED_INPUTS = ("seed", "noise_seed")


def _json(text: str) -> object:
    try:
        return json.loads(text[:MAX_TEXT])
    except (ValueError, RecursionError):
        return None


def _short(value: object) -> str:
    return str(value)[:_MAX_VALUE]


def _signal(tool: str, details: dict[str, object]) -> Signal:
    model = details.get("model")
    seed = details.get("seed")
    if model is not None and seed is not None:
        text = Phrase(
            "{tool} generation metadata (model {model}, seed {seed})",
            tool=tool,
            model=model,
            seed=seed,
        )
    elif model is not None:
        text = Phrase("{tool} generation metadata (model {model})", tool=tool, model=model)
    else:
        text = Phrase("{tool} generation metadata", tool=tool)
    return Signal("generator", text, Verdict.AI_DECLARED, tool, {"tool": tool, **details})


def _a1111(text: str) -> Signal | None:
    if "sui_image_params" in text:
        data = _json(text)
        params = data.get("sui_image_params") if isinstance(data, dict) else None
        details: dict[str, object] = {}
        if isinstance(params, dict):
            if "model" in params:
                details["model"] = _short(params["model"])
            if "seed" in params:
                details["seed"] = _short(params["seed"])
        return _signal("SwarmUI", details)
    if text.lstrip().startswith("{"):
        data = _json(text)
        if isinstance(data, dict) and ("fooocus" in text.lower() or "base_model" in data):
            details = {}
            if "base_model" in data:
                details["model"] = _short(data["base_model"])
            if "seed" in data:
                details["seed"] = _short(data["seed"])
            return _signal("Fooocus", details)
        return None
    if not _A1111.search(text):
        return None
    fields = {name: value.strip() for name, value in _A1111_FIELD.findall(text)}
    details = {}
    if "Model" in fields:
        details["model"] = fields["Model"]
    if "Model hash" in fields:
        details["model_hash"] = fields["Model hash"]
    if "Seed" in fields:
        details["seed"] = fields["Seed"]
    version = fields.get("Version", "")
    tool = "Forge" if version.startswith("f") else "AUTOMATIC1111/SD.Next"
    if version:
        details["version"] = version
    return _signal(tool, details)


def _comfy(prompt: str | None, workflow: str | None) -> Signal | None:
    graph = _json(prompt) if prompt else None
    details: dict[str, object] = {}
    nodes = graph.values() if isinstance(graph, dict) else ()
    is_graph = False
    for node in nodes:
        if not isinstance(node, dict) or "class_type" not in node:
            continue
        is_graph = True
        inputs = node.get("inputs")
        if not isinstance(inputs, dict):
            continue
        for key in _COMFY_MODEL_INPUTS:
            if isinstance(inputs.get(key), str) and "model" not in details:
                details["model"] = _short(inputs[key])
        for key in _COMFY_SEED_INPUTS:
            if isinstance(inputs.get(key), int) and "seed" not in details:
                details["seed"] = inputs[key]
    if not is_graph and workflow:
        flow = _json(workflow)
        is_graph = isinstance(flow, dict) and isinstance(flow.get("nodes"), list)
    return _signal("ComfyUI", details) if is_graph else None


def _invoke(fields: Mapping[str, str]) -> Signal | None:
    keys = ("invokeai_metadata", "invokeai_graph", "sd-metadata", "Dream")
    present = [k for k in keys if k in fields]
    if not present:
        return None
    details: dict[str, object] = {}
    meta = _json(fields["invokeai_metadata"]) if "invokeai_metadata" in fields else None
    if isinstance(meta, dict):
        model = meta.get("model")
        if isinstance(model, dict):
            model = model.get("name") or model.get("model_name")
        if model:
            details["model"] = _short(model)
        if "seed" in meta:
            details["seed"] = _short(meta["seed"])
    return _signal("InvokeAI", details)


def _novelai(fields: Mapping[str, str], verify: Callable[[str], str] | None) -> Signal | None:
    software = fields.get("Software", "")
    comment = _json(fields["Comment"]) if "Comment" in fields else None
    if isinstance(comment, dict) and isinstance(comment.get("Comment"), str):
        comment = _json(comment["Comment"])  # nested, as NovelAI sometimes writes it
    signed = isinstance(comment, dict) and "signed_hash" in comment
    if "novelai" not in software.lower() and not signed:
        return None
    details: dict[str, object] = {}
    if isinstance(comment, dict) and "seed" in comment:
        details["seed"] = _short(comment["seed"])
    if "Source" in fields:
        details["model"] = _short(fields["Source"])
    # Ed25519 over the pixels and the comment (rempart.provenance.novelai): checked when the
    # caller decoded the pixels, else reported unchecked.
    status = "absent"
    if signed:
        status = verify(fields["Comment"]) if verify is not None else "unverified"
    details["signature"] = status
    return _signal("NovelAI", details)


def _signature_said(signal: Signal) -> Signal:
    """NovelAI's signal with what its signature check found, said after everything else."""
    status = signal.details.get("signature") if signal.declared_by == "NovelAI" else None
    if status == "valid":
        note = Phrase(
            "{what}; NovelAI's signature verifies offline: NovelAI signed these very pixels "
            "as made by its models",
            what=signal.description,
        )
    elif status == "invalid":
        note = Phrase(
            "{what}; NovelAI's signature does not verify: the pixels or the comment changed "
            "after signing (a re-encode, a resize, an edit), or it was forged",
            what=signal.description,
        )
    else:
        return signal
    return replace(signal, description=note)


def generator_signals(
    fields: Mapping[str, str],
    *,
    verify: Callable[[str], str] | None = None,
    hidden: bool = False,
) -> list[Signal]:
    """Signals from text fields of one file: PNG text chunk keywords (`parameters`,
    `prompt`, `workflow`…), `UserComment` from EXIF, `Comment`, `Software`. `verify` checks
    NovelAI's signature of a comment against the file's pixels (rempart.provenance.novelai);
    `hidden`: the fields came out of the alpha channel, and the signals say so."""
    found: list[Signal] = []
    for key in ("parameters", "UserComment"):
        if key in fields:
            signal = _a1111(fields[key])
            if signal is not None:
                found.append(signal)
                break
    if "fooocus_scheme" in fields and not any(s.declared_by == "Fooocus" for s in found):
        found.append(_signal("Fooocus", {}))
    for signal in (
        _comfy(fields.get("prompt"), fields.get("workflow")),
        _invoke(fields),
        _novelai(fields, verify),
    ):
        if signal is not None:
            found.append(signal)
    if hidden:
        found = [
            replace(
                s,
                description=Phrase("{what}, hidden in the alpha channel", what=s.description),
                details={**s.details, "where": "alpha channel"},
            )
            for s in found
        ]
    return [_signature_said(s) for s in found]
