"""Pictures made in the tests, each carrying one provenance signal, and a C2PA signer whose
certificate chain is generated here. Neutral content from rempart.samples only."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image, PngImagePlugin

from rempart.samples import neutral_image

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def picture(seed: int = 1, size: tuple[int, int] = (96, 64)) -> Image.Image:
    return neutral_image(seed, *size)


def png_with_text(chunks: dict[str, str], *, seed: int = 1) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    out = io.BytesIO()
    picture(seed).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg(*, exif: Image.Exif | None = None, xmp: bytes | None = None, seed: int = 1) -> bytes:
    out = io.BytesIO()
    kwargs: dict[str, Any] = {}
    if exif is not None:
        kwargs["exif"] = exif
    if xmp is not None:
        kwargs["xmp"] = xmp
    picture(seed).save(out, "JPEG", quality=90, **kwargs)
    return out.getvalue()


def exif(**tags: str | bytes) -> Image.Exif:
    """EXIF with IFD0 tags by name (Make, Model, Software) and Exif-IFD UserComment/MakerNote."""
    names = {"Make": 0x010F, "Model": 0x0110, "Software": 0x0131, "ImageDescription": 0x010E}
    sub = {"UserComment": 0x9286, "MakerNote": 0x927C}
    data = Image.Exif()
    for name, value in tags.items():
        if name in names:
            data[names[name]] = value
        else:
            data.get_ifd(0x8769)[sub[name]] = value
    return data


def xmp_packet(body: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        f"{body}</rdf:RDF></x:xmpmeta>"
    ).encode()


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Rempart Test"),
        ]
    )


def _usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign,
        crl_sign=sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_signer(cn: str = "Test Generator Signer") -> Any:
    """A c2pa Signer with a two-certificate chain (test root → signer) made now."""
    import c2pa

    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("Rempart Test Root"))
        .issuer_name(_name("Rempart Test Root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(sign=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    chain = leaf.public_bytes(serialization.Encoding.PEM) + root.public_bytes(
        serialization.Encoding.PEM
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, private, None)
    return c2pa.Signer.from_info(info)


def c2pa_jpeg(actions: list[dict[str, str]], *, generator: str = "TestGen") -> bytes:
    """A JPEG with a C2PA manifest holding `actions`, signed offline by a test chain."""
    import c2pa

    manifest = {
        "claim_generator_info": [{"name": generator, "version": "1.0"}],
        "title": "test.jpg",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}],
    }
    context = c2pa.Context.from_dict(
        {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    )
    source, signed = io.BytesIO(jpeg()), io.BytesIO()
    with c2pa.Builder(manifest, context=context) as builder:
        builder.sign(make_signer(), "image/jpeg", source, signed)
    return signed.getvalue()


def stealth_png(
    payload: bytes,
    *,
    gzip_it: bool = True,
    seed: int = 1,
    size: tuple[int, int] = (96, 200),
    chunks: dict[str, str] | None = None,
    length_bits: int | None = None,
    base: Image.Image | None = None,
) -> bytes:
    """An RGBA PNG whose alpha channel's low bits carry `payload` as the stealth pnginfo
    writers put it: column by column, the magic, the length in bits, the (gzipped) bytes."""
    import gzip

    import numpy as np

    body = gzip.compress(payload) if gzip_it else payload
    magic = b"stealth_pngcomp" if gzip_it else b"stealth_pnginfo"
    length = len(body) * 8 if length_bits is None else length_bits
    message = magic + length.to_bytes(4, "big") + body
    bits = np.unpackbits(np.frombuffer(message, dtype=np.uint8))
    rgba = np.array((base or picture(seed, size)).convert("RGBA"))
    column_major = rgba[:, :, 3].T.copy()
    flat = column_major.reshape(-1)
    assert bits.size <= flat.size, "picture too small for the payload"
    flat[: bits.size] = (flat[: bits.size] & 0xFE) | bits
    rgba[:, :, 3] = column_major.T
    info = PngImagePlugin.PngInfo()
    for key, value in (chunks or {}).items():
        info.add_text(key, value)
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG", pnginfo=info)
    return out.getvalue()


def novelai_comment(rgb: bytes, key: Any, **comment: object) -> str:
    """A NovelAI-style comment JSON signed by `key` (an Ed25519 private key) over `rgb` and
    the comment without its signature, as NovelAI's verifier rebuilds it."""
    import base64
    import json

    signature = key.sign(rgb + json.dumps(comment).encode("utf-8"))
    return json.dumps({**comment, "signed_hash": base64.b64encode(signature).decode()})
