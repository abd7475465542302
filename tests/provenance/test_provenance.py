"""Each provenance signal read from a picture made in the test, and the verdict it gives."""

from __future__ import annotations

import io
import json
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin
from provenance_support import (
    IPTC,
    c2pa_jpeg,
    exif,
    jpeg,
    picture,
    png_with_text,
    xmp_packet,
)

from rempart.provenance import Verdict, read_provenance
from rempart.samples import neutral_image

A1111 = (
    "a lighthouse on a cliff\nNegative prompt: blurry\n"
    "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 424242, Size: 512x512, "
    "Model hash: 31e35c80fc, Model: realisticVision_v51, Version: v1.7.0"
)
COMFY_PROMPT = json.dumps(
    {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev.sft"}},
        "3": {"class_type": "KSampler", "inputs": {"seed": 987654, "steps": 20}},
    }
)
COMFY_WORKFLOW = json.dumps({"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}]})


def _kinds(data: bytes) -> list[str]:
    return [s.kind for s in read_provenance(data, watermark=False).signals]


def test_a1111_parameters_declare_ai_with_model_and_seed() -> None:
    result = read_provenance(png_with_text({"parameters": A1111}))
    assert result.verdict is Verdict.AI_DECLARED
    (signal,) = result.signals
    assert signal.kind == "generator"
    assert signal.details["model"] == "realisticVision_v51"
    assert signal.details["seed"] == "424242"
    assert result.declared_by == ("AUTOMATIC1111/SD.Next",)


def test_forge_is_named_from_its_version() -> None:
    text = A1111.replace("Version: v1.7.0", "Version: f2.0.1v1.10.1-previous-313")
    assert read_provenance(png_with_text({"parameters": text})).declared_by == ("Forge",)


def test_a1111_parameters_in_jpeg_user_comment_declare_ai() -> None:
    comment = b"UNICODE\x00" + A1111.encode("utf-16-be")
    result = read_provenance(jpeg(exif=exif(UserComment=comment)))
    assert result.verdict is Verdict.AI_DECLARED
    assert result.signals[0].details["seed"] == "424242"


def test_comfyui_prompt_graph_declares_ai_with_checkpoint_and_seed() -> None:
    data = png_with_text({"prompt": COMFY_PROMPT, "workflow": COMFY_WORKFLOW})
    result = read_provenance(data)
    assert result.verdict is Verdict.AI_DECLARED
    assert result.declared_by == ("ComfyUI",)
    assert result.signals[0].details == {
        "tool": "ComfyUI",
        "model": "flux1-dev.sft",
        "seed": 987654,
    }


def test_comfyui_workflow_alone_declares_ai() -> None:
    result = read_provenance(png_with_text({"workflow": COMFY_WORKFLOW}))
    assert result.declared_by == ("ComfyUI",)


def test_a_prompt_chunk_that_is_not_a_graph_declares_nothing() -> None:
    result = read_provenance(png_with_text({"prompt": "just some words"}))
    assert result.verdict is Verdict.NO_SIGNAL


def test_invokeai_novelai_fooocus_and_swarmui_metadata_are_recognised() -> None:
    invoke = png_with_text({"invokeai_metadata": json.dumps({"model": {"name": "juggernaut"}})})
    novel = png_with_text(
        {
            "Software": "NovelAI",
            "Source": "NovelAI Diffusion V4 4F6D5E3A",
            "Comment": json.dumps({"seed": 77, "signed_hash": "AAAA"}),
        }
    )
    fooocus = png_with_text(
        {"fooocus_scheme": "fooocus", "parameters": json.dumps({"base_model": "juggernautXL"})}
    )
    swarm = png_with_text(
        {"parameters": json.dumps({"sui_image_params": {"model": "sdxl", "seed": 5}})}
    )
    assert read_provenance(invoke).signals[0].details["model"] == "juggernaut"
    nai = read_provenance(novel)
    assert nai.declared_by == ("NovelAI",)
    assert (
        nai.signals[0].details["signature"] == "invalid"
    )  # "AAAA" is no signature of these pixels
    assert read_provenance(fooocus).declared_by == ("Fooocus",)
    assert read_provenance(swarm).declared_by == ("SwarmUI",)


def test_xmp_trained_algorithmic_media_declares_ai_in_jpeg_and_png() -> None:
    packet = xmp_packet(f'Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia"/>')
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet.decode())
    png = io.BytesIO()
    picture().save(png, "PNG", pnginfo=info)
    for data in (jpeg(xmp=packet), png.getvalue()):
        result = read_provenance(data)
        assert result.verdict is Verdict.AI_DECLARED
        assert result.signals[0].details["digital_source_type"] == "trainedAlgorithmicMedia"


def test_xmp_source_type_as_element_and_ai_system_fields() -> None:
    body = (
        "><Iptc4xmpExt:DigitalSourceType>"
        f"{IPTC}compositeWithTrainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>"
        "<Iptc4xmpExt:AISystemUsed>ExampleGen</Iptc4xmpExt:AISystemUsed></rdf:Description>"
    )
    result = read_provenance(jpeg(xmp=xmp_packet(body)))
    assert result.verdict is Verdict.AI_DECLARED
    assert "ExampleGen" in result.declared_by


def test_xmp_digital_capture_alone_points_to_camera() -> None:
    body = f'Iptc4xmpExt:DigitalSourceType="{IPTC}digitalCapture"/>'
    assert read_provenance(jpeg(xmp=xmp_packet(body))).verdict is Verdict.CAMERA


def test_xmp_with_entities_is_refused_and_reported_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'
    )
    # The packet starts at <x:xmpmeta, so the DTD is out of it: the entity is undefined.
    result = read_provenance(jpeg(xmp=bomb))
    assert [s.kind for s in result.signals] == ["unreadable"]
    assert result.verdict is Verdict.NO_SIGNAL


def test_camera_exif_points_to_camera() -> None:
    result = read_provenance(jpeg(exif=exif(Make="Canon", Model="Canon EOS R6", MakerNote=b"x")))
    assert result.verdict is Verdict.CAMERA
    assert result.signals[0].details["maker_note"] is True


def test_editor_software_after_a_camera_gives_edited() -> None:
    data = jpeg(exif=exif(Make="NIKON", Model="Z 6", Software="Adobe Photoshop 25.0 (Windows)"))
    result = read_provenance(data)
    assert result.verdict is Verdict.EDITED
    assert {s.kind for s in result.signals} == {"software", "camera"}


def test_ai_software_names_outrank_a_camera_make() -> None:
    data = jpeg(exif=exif(Make="Black Forest Labs", Software="AI generated;txt2img;flux"))
    assert read_provenance(data).verdict is Verdict.AI_DECLARED


def test_stripped_file_has_no_signal_and_says_that_proves_nothing() -> None:
    stripped = io.BytesIO()
    Image.open(io.BytesIO(png_with_text({"parameters": A1111}))).save(stripped, "JPEG")
    result = read_provenance(stripped.getvalue())
    assert result.verdict is Verdict.NO_SIGNAL
    assert result.signals == ()
    assert "does not show that the picture is authentic" in result.reasons[0]


def test_compressed_text_bomb_is_reported_unreadable() -> None:
    data = png_with_text({})
    body = b"parameters\x00\x00" + zlib.compress(b"A" * (64 * 1024 * 1024), 9)
    chunk = len(body).to_bytes(4, "big") + b"zTXt" + body
    chunk += zlib.crc32(chunk[4:]).to_bytes(4, "big")
    bomb = data[:33] + chunk + data[33:]
    result = read_provenance(bomb)
    assert "unreadable" in [s.kind for s in result.signals]


def test_c2pa_ai_manifest_signed_by_a_test_chain_is_declared_and_untrusted() -> None:
    pytest.importorskip("c2pa")
    action = {"action": "c2pa.created", "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}
    result = read_provenance(c2pa_jpeg([action], generator="ExampleGen"))
    assert result.verdict is Verdict.AI_DECLARED
    signal = next(s for s in result.signals if s.kind == "c2pa")
    assert signal.details["validation"] == "untrusted"
    assert signal.details["signer"] == "Test Generator Signer"
    assert "ExampleGen" in (signal.declared_by or "")


def test_c2pa_capture_manifest_points_to_camera() -> None:
    pytest.importorskip("c2pa")
    action = {"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCapture"}
    assert read_provenance(c2pa_jpeg([action])).verdict is Verdict.CAMERA


def test_c2pa_ai_declaration_survives_a_broken_hash_binding() -> None:
    pytest.importorskip("c2pa")
    action = {"action": "c2pa.created", "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}
    signed = bytearray(c2pa_jpeg([action]))
    signed[-200] ^= 0xFF  # a byte of the picture data, after the manifest
    result = read_provenance(bytes(signed), watermark=False)
    signal = next(s for s in result.signals if s.kind == "c2pa")
    assert signal.details["validation"] == "invalid"
    assert "integrity broken" in signal.description
    assert result.verdict is Verdict.AI_DECLARED


def test_sdxl_watermark_embedded_by_invisible_watermark_is_found() -> None:
    from rempart.provenance import watermark

    if not watermark.decoder_available():
        pytest.skip("invisible-watermark (dwtDct) is not installed")
    module = watermark._max_dct()
    assert module is not None
    bits = [(watermark.SDXL_MARK >> (47 - i)) & 1 for i in range(48)]
    import numpy as np

    # A textured picture, as generated pictures are: flat ones carry the mark poorly.
    carrier = neutral_image(0, 512, 512, "texture")
    bgr = np.ascontiguousarray(np.asarray(carrier)[:, :, ::-1]).astype(np.float32)
    marked = module.EmbedMaxDct(watermarks=bits, wmLen=48).encode(bgr)
    out = io.BytesIO()
    Image.fromarray(np.clip(np.round(marked), 0, 255).astype(np.uint8)[:, :, ::-1]).save(out, "PNG")
    result = read_provenance(out.getvalue())
    assert result.verdict is Verdict.AI_SUSPECTED
    assert result.signals[0].details["agreeing_bits"] > 35
    plain = io.BytesIO()
    carrier.save(plain, "PNG")
    assert read_provenance(plain.getvalue()).verdict is Verdict.NO_SIGNAL


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash(data: bytes) -> None:
    result = read_provenance(data)
    assert result.verdict in set(Verdict)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=8, max_value=2000), st.binary(min_size=1, max_size=64))
def test_damaged_pictures_never_crash(cut: int, junk: bytes) -> None:
    base = png_with_text({"parameters": A1111, "prompt": COMFY_PROMPT})
    for data in (base[:cut] + junk, base[:cut] + junk + base[cut + len(junk) :]):
        json.dumps(read_provenance(data).to_json())


def test_camera_exif_in_a_png_is_read_without_decoding_pixels() -> None:
    out = io.BytesIO()
    picture().save(out, "PNG", exif=exif(Make="FUJIFILM", Model="X-T5"))
    assert read_provenance(out.getvalue()).verdict is Verdict.CAMERA


@pytest.mark.parametrize(
    ("software", "verdict"),
    [
        ("AI generated;txt2img;flux", Verdict.AI_DECLARED),
        ("Ideogram AI", Verdict.AI_DECLARED),
        ("Imagenomic Portraiture 4", Verdict.NO_SIGNAL),  # "imagen" inside a word: no claim
        ("GIMP 2.10.36", Verdict.EDITED),
        ("Ver.1.02", Verdict.NO_SIGNAL),  # a camera's firmware informs, decides nothing
    ],
)
def test_program_names_are_matched_as_whole_words(software: str, verdict: Verdict) -> None:
    assert read_provenance(jpeg(exif=exif(Software=software))).verdict is verdict
