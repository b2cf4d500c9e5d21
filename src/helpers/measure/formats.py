"""Deployed number formats: what fp16, bf16, fp8, fp4, int8/int4, OCP MX and sign bits store.

Introduced in the chapter "Number formats in practice" (``notebooks/10_number_formats``).

The book's own quantizer is the uniform p-bit grid on the unit cube (:mod:`.quantize`).
Representations are stored otherwise in practice, and this module gives, for each format a
practitioner meets, the float64 values that the format stores, dequantized
(:func:`round_to`), and what it costs per value (:func:`bits_per_value`). The casts are
``ml_dtypes``' (numpy's for fp16): round to nearest, ties to even, from float64 directly so
that no intermediate float32 rounds twice. The module only scales, clips and casts; it
does no bit manipulation of its own.

Names (:data:`FORMATS`):

- ``fp16``, ``bf16``, ``fp8_e4m3`` (the ``fn`` variant: no infinities, largest 448),
  ``fp8_e5m2`` (largest 57344), ``fp4_e2m1`` (largest 6): a cast of ``x / s`` read back as
  ``code * s``, with values beyond the largest finite magnitude saturated to it. ``scale=s``
  fixes ``s`` (``1.0`` is a plain cast); ``scale=None`` takes the per-tensor absmax scale
  ``s = max|x| / largest`` for the fp8 and fp4 formats and ``s = 1`` for fp16 and bf16, whose
  range needs no scaling.
- ``int8``, ``int4``: symmetric integers with ``q = 2^(b-1) - 1`` (127, 7), codes
  ``clip(rint(x / s), -q, q)``, ``s = max|x| / q`` per tensor (or ``scale=s``).
- ``int8_channel``, ``int4_channel``: the same with one absmax scale per column
  (representation dimension).
- ``mxfp8_e4m3``, ``mxfp4``: the OCP Microscaling rule (OCP MX v1.0). Blocks of 32
  consecutive values along the last axis share the scale ``2^(floor(log2 max|v|) - emax)``,
  ``emax`` being the exponent of the element type's largest value (8 for E4M3, 2 for E2M1);
  the elements ``v / scale`` are cast with saturation. A last block shorter than 32 is a
  block of its own; an all-zero block stores zeros. As in the OCP reference code, a scale
  below E8M0's smallest, ``2^-127``, is raised to it; values that would need a scale above
  ``2^127`` are refused.
- ``binary``: one sign bit per value, read back as ``+m`` or ``-m`` where ``m`` is the
  column's mean absolute value. The bit is set for ``x > 0``, as ``faiss.real_to_binary``
  sets it, so ``sign(0) = sign(-0) = -1``.

Input is one tensor of shape ``(n, d)`` (rows are points, columns the representation
dimensions) or ``(n,)``. A 1-D tensor is one column for the per-column formats, and its MX
blocks run along it.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

from helpers._validation import as_array, check_points, check_positive

#: Format name -> where the format is used (one line each).
FORMATS: dict[str, str] = {
    "fp16": "IEEE half precision: GPU inference and mixed-precision training; faiss's "
            "SQfp16 stores vectors so.",
    "bf16": "bfloat16 (float32's 8-bit exponent, 7-bit mantissa): the usual training and "
            "inference type on TPUs and recent GPUs.",
    "fp8_e4m3": "OCP FP8 E4M3 (largest 448, per-tensor scale): weights and activations in "
                "FP8 inference on Hopper-class GPUs.",
    "fp8_e5m2": "OCP FP8 E5M2 (largest 57344, per-tensor scale): gradients in FP8 training, "
                "where range matters more than resolution.",
    "fp4_e2m1": "FP4 E2M1 (largest 6) with one per-tensor scale: the element type of MXFP4 "
                "and NVFP4, here without block scales.",
    "int8": "symmetric int8 with one absmax scale per tensor: classic post-training "
            "quantization.",
    "int4": "symmetric int4 with one absmax scale per tensor: aggressive weight-only "
            "quantization.",
    "int8_channel": "symmetric int8 with one absmax scale per dimension: per-channel "
                    "quantization and the int8 codes of vector databases.",
    "int4_channel": "symmetric int4 with one absmax scale per dimension: 4-bit scalar "
                    "codes of vector databases.",
    "mxfp8_e4m3": "OCP Microscaling MXFP8: E4M3 elements sharing a power-of-two E8M0 scale "
                  "per block of 32.",
    "mxfp4": "OCP Microscaling MXFP4: E2M1 elements sharing a power-of-two E8M0 scale per "
             "block of 32; LLM weights on recent GPUs.",
    "binary": "one sign bit per dimension, read back as +-(mean |value| of the dimension): "
              "binary embeddings searched by Hamming distance.",
}

# Element types of the float formats; numpy's float16 is IEEE binary16.
_FLOAT_TYPES = {
    "fp16": np.float16,
    "bf16": ml_dtypes.bfloat16,
    "fp8_e4m3": ml_dtypes.float8_e4m3fn,
    "fp8_e5m2": ml_dtypes.float8_e5m2,
    "fp4_e2m1": ml_dtypes.float4_e2m1fn,
}
# fp16 and bf16 cover the range of any representation; the narrow types need a scale.
_UNSCALED = ("fp16", "bf16")
_INT_BITS = {"int8": 8, "int4": 4, "int8_channel": 8, "int4_channel": 4}
# MX element type and emax, the exponent of its largest normal value (448 = 1.75 * 2^8,
# 6 = 1.5 * 2^2), as the OCP MX specification tabulates them.
_MX_TYPES = {"mxfp8_e4m3": (ml_dtypes.float8_e4m3fn, 8), "mxfp4": (ml_dtypes.float4_e2m1fn, 2)}
#: Values per MX block (the OCP MX specification's k).
MX_BLOCK = 32
# The E8M0 shared scale: 8 bits, exponents -127 ... 127.
_MX_SCALE_BITS = ml_dtypes.finfo(ml_dtypes.float8_e8m0fnu).bits
_MX_EXP_MIN, _MX_EXP_MAX = -127, 127
# Formats that compute their scales from the data and accept no `scale`.
_OWN_SCALES = ("int8_channel", "int4_channel", "mxfp8_e4m3", "mxfp4", "binary")
# A scale that underflows to zero (max|x| near the float64 subnormals) would divide by zero.
_TINY = float(np.finfo(np.float64).smallest_subnormal)


def _check_name(name) -> str:
    if not isinstance(name, str) or name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; the known formats are "
                         f"{', '.join(FORMATS)}.")
    return name


def bits_per_value(name: str) -> float:
    """Stored bits per value of a format, its scales included.

    Introduced in the chapter "Number formats in practice" (``notebooks/10_number_formats``),
    where it is the horizontal axis that the formats share with the book's p-bit grid.

    What is counted: the element's bits, plus the MX formats' 8-bit E8M0 scale shared by
    32 values (MXFP4: 4 + 8/32 = 4.25; MXFP8: 8 + 8/32 = 8.25). Scales stored once per
    tensor (fp8, fp4, int8, int4) or once per column (``int8_channel``, ``int4_channel`` and
    the mean of ``binary``) cost a fixed number of floats, ``d`` 32-bit floats at most,
    whatever the number ``n`` of stored vectors; spread over the ``n * d`` values they tend
    to zero and are counted as zero (``32 / n`` bits per value for the per-column scales,
    about 0.003 bits at ``n = 10 000``).

    Parameters
    ----------
    name : str
        A key of :data:`FORMATS`.

    Returns
    -------
    float
        Bits per stored value.

    Raises
    ------
    ValueError
        For an unknown format, listing the known ones.
    """
    name = _check_name(name)
    if name in _FLOAT_TYPES:
        return float(ml_dtypes.finfo(_FLOAT_TYPES[name]).bits)
    if name in _INT_BITS:
        return float(_INT_BITS[name])
    if name in _MX_TYPES:
        element = ml_dtypes.finfo(_MX_TYPES[name][0]).bits
        return element + _MX_SCALE_BITS / MX_BLOCK
    return 1.0  # binary


def _check_values(values) -> np.ndarray:
    values = as_array(values, name="values")
    shape = values.shape
    if len(shape) not in (1, 2):
        raise ValueError(f"values must be a 1-D array or a 2-D array of shape (n_points, "
                         f"n_dims), got shape {shape}. Reshape with Z.reshape(len(Z), -1).")
    # float64 holds float32 and float16 input exactly, so every cast below rounds once
    return check_points(values, name="values", allow_1d=True).reshape(shape)


def _cast(scaled: np.ndarray, dtype) -> np.ndarray:
    """Saturating round-to-nearest-even cast to ``dtype``, read back as float64."""
    top = float(ml_dtypes.finfo(dtype).max)
    # plain casts overflow to inf (or NaN for E4M3fn); formats used with scales saturate
    return np.clip(scaled, -top, top).astype(dtype).astype(np.float64)


def _float_format(x: np.ndarray, name: str, scale: float | None) -> np.ndarray:
    dtype = _FLOAT_TYPES[name]
    if scale is None:
        absmax = float(np.max(np.abs(x)))
        if name in _UNSCALED or absmax == 0.0:
            scale = 1.0
        else:
            scale = max(absmax / float(ml_dtypes.finfo(dtype).max), _TINY)
    with np.errstate(over="ignore", under="ignore"):  # overflow saturates in _cast
        return _cast(x / scale, dtype) * scale


def _int_format(x: np.ndarray, name: str, scale: float | None) -> np.ndarray:
    top = 2 ** (_INT_BITS[name] - 1) - 1
    if scale is None:
        # per tensor, or per column for the _channel formats (a 1-D tensor is one column)
        axis = 0 if name.endswith("_channel") else None
        absmax = np.max(np.abs(x), axis=axis, keepdims=True)
        # an all-zero tensor or column stores code 0 whatever its scale
        scale = np.maximum(absmax / top, _TINY)
    with np.errstate(over="ignore", under="ignore"):
        codes = np.clip(np.rint(x / scale), -top, top)
    # integer codes have no negative zero: + 0.0 turns -0.0 into 0.0
    return (codes + 0.0) * scale


def _mx_format(x: np.ndarray, name: str) -> np.ndarray:
    dtype, emax = _MX_TYPES[name]
    rows = x.reshape(-1, x.shape[-1])
    n, d = rows.shape
    blocks = -(-d // MX_BLOCK)
    # pad the last block with zeros, which change no block's max and are dropped after
    padded = np.zeros((n, blocks * MX_BLOCK))
    padded[:, :d] = rows
    padded = padded.reshape(n, blocks, MX_BLOCK)
    absmax = np.max(np.abs(padded), axis=2, keepdims=True)
    # frexp gives absmax = f * 2^e with f in [0.5, 1), so floor(log2 absmax) = e - 1
    exponent = np.frexp(absmax)[1] - 1 - emax
    # an all-zero block takes the smallest scale; its elements are zero whatever it is
    exponent = np.where(absmax > 0, exponent, _MX_EXP_MIN)
    if np.any(exponent > _MX_EXP_MAX):
        raise ValueError(f"values reach {float(np.max(absmax)):g}, beyond what {name}'s E8M0 "
                         f"scale (at most 2^{_MX_EXP_MAX}) can represent.")
    # as the OCP reference code does, scales below 2^-127 are raised to it
    exponent = np.maximum(exponent, _MX_EXP_MIN)
    with np.errstate(under="ignore"):
        stored = np.ldexp(_cast(np.ldexp(padded, -exponent), dtype), exponent)
    return stored.reshape(n, -1)[:, :d].reshape(x.shape)


def _binary(x: np.ndarray) -> np.ndarray:
    columns = x.reshape(len(x), -1)
    mean = np.mean(np.abs(columns), axis=0)
    # bit = x > 0, as faiss.real_to_binary sets it: 0 and -0 read back as -mean
    return np.where(columns > 0, mean, -mean).reshape(x.shape)


def round_to(values, name: str, *, scale: float | None = None) -> np.ndarray:
    """The values a number format stores for ``values``, dequantized to float64.

    Introduced in the chapter "Number formats in practice" (``notebooks/10_number_formats``),
    which measures what each deployed format keeps of a representation next to the book's
    p-bit grid. The rules of every format are in the module docstring and in
    :data:`FORMATS`.

    Parameters
    ----------
    values : array_like
        Shape ``(n, d)`` (rows are points, columns representation dimensions) or ``(n,)``;
        finite and non-empty.
    name : str
        A key of :data:`FORMATS`.
    scale : float or None
        For ``fp16``, ``bf16``, ``fp8_*``, ``fp4_e2m1``, ``int8`` and ``int4``: the
        per-tensor scale ``s`` (stored value ``code * s``; ``1.0`` is a plain cast with
        saturation, and for the integers ``s`` is the step), for example one fitted on a
        training split. ``None`` computes it from ``values`` (per-tensor absmax; ``1`` for
        fp16 and bf16). The other formats compute their own scales and take only ``None``.

    Returns
    -------
    numpy.ndarray
        float64 array of the shape of ``values``. Negative zero survives in the float
        formats, which store it, and not in the integer ones, which do not.

    Raises
    ------
    ValueError
        For an unknown format (listing the known ones), values that are not a finite,
        non-empty 1-D or 2-D numeric array, a scale that is not a finite positive real, a
        scale given to a format that computes its own, or values too large for an MX scale.
    """
    name = _check_name(name)
    x = _check_values(values)
    if scale is not None:
        if name in _OWN_SCALES:
            raise ValueError(f"{name} computes its own scales from the values; leave scale "
                             f"as None (got {scale!r}).")
        scale = check_positive(scale, name="scale")
    if name in _FLOAT_TYPES:
        return _float_format(x, name, scale)
    if name in _INT_BITS:
        return _int_format(x, name, scale)
    if name in _MX_TYPES:
        return _mx_format(x, name)
    return _binary(x)
