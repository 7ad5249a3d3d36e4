#!/usr/bin/env python3
"""Writes the crafted bad files of tests/corpus (committed; tests/test_corpus replays them).

    ./tests/test_corpus --seeds /tmp/seeds && python3 tests/corpus/make_corpus.py /tmp/seeds tests/corpus

The valid files of the fuzz model (tests/fuzz/fuzz_model.h) come from test_corpus --seeds; every
file written here is one of them broken in one way (the name says how), with the checkpoint's
FNV-1a checksum recomputed where the break should get past it. Files named model_* (safetensors)
and idx_* (.npy) are well-formed but must not load into the model / make a split."""
import json
import os
import struct
import sys

seeds, out = sys.argv[1], sys.argv[2]


def put(sub, name, data):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
    with open(os.path.join(out, sub, name), "wb") as f:
        f.write(data)


def fnv(b):
    h = 0xCBF29CE484222325
    for x in b:
        h = ((h ^ x) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def resum(b):
    """The checkpoint b with its trailing checksum recomputed."""
    body = bytes(b[:-8])
    return body + struct.pack("<Q", fnv(body))


def patch(b, off, fmt, value, fix=True):
    b = bytearray(b)
    struct.pack_into(fmt, b, off, value)
    return resum(b) if fix else bytes(b)


# ---- checkpoints (format version 1 and 2: offsets of the fields)
opt = open(os.path.join(seeds, "ckpt", "opt.grok"), "rb").read()
wts = open(os.path.join(seeds, "ckpt", "weights.grok"), "rb").read()
C = {"version": 8, "flags": 12, "n_layers": 16, "n_heads": 20, "d_model": 24, "d_head": 28, "d_mlp": 32,
     "d_vocab": 36, "d_vocab_out": 40, "n_ctx": 44, "act_fn": 48, "normalization": 52, "train_biases": 56,
     "ln_eps": 76, "n_params": 172, "num": 176}
put("ckpt", "empty.grok", b"")
put("ckpt", "magic_only.grok", b"GROKCKPT")
put("ckpt", "bad_magic.grok", b"X" + wts[1:])
put("ckpt", "version_0.grok", patch(wts, C["version"], "<I", 0))
put("ckpt", "version_99.grok", patch(wts, C["version"], "<I", 99))
put("ckpt", "flags_7.grok", patch(wts, C["flags"], "<I", 7))
put("ckpt", "flags_opt_on_weights_only.grok", patch(wts, C["flags"], "<I", 1))
put("ckpt", "flags_no_opt_on_opt.grok", patch(opt, C["flags"], "<I", 0))
put("ckpt", "truncated_header.grok", wts[:40])
put("ckpt", "truncated_table.grok", wts[:180])
put("ckpt", "truncated_weights.grok", wts[:len(wts) // 2])
put("ckpt", "no_checksum.grok", wts[:-8])
put("ckpt", "bad_checksum.grok", wts[:-1] + bytes([wts[-1] ^ 1]))
put("ckpt", "flipped_weight.grok", wts[:600] + bytes([wts[600] ^ 0x40]) + wts[601:])
put("ckpt", "trailing_byte.grok", opt + b"\0")
put("ckpt", "config_n_layers_0.grok", patch(wts, C["n_layers"], "<I", 0))
put("ckpt", "config_n_layers_huge.grok", patch(wts, C["n_layers"], "<I", 0xFFFFFFFF))
put("ckpt", "config_d_model_huge.grok", patch(wts, C["d_model"], "<I", 0x7FFFFFFF))
put("ckpt", "config_d_vocab_negative.grok", patch(wts, C["d_vocab"], "<I", 0xFFFFFFFE))
put("ckpt", "config_n_ctx_0.grok", patch(wts, C["n_ctx"], "<I", 0))
put("ckpt", "config_act_fn_9.grok", patch(wts, C["act_fn"], "<I", 9))
put("ckpt", "config_norm_7.grok", patch(wts, C["normalization"], "<I", 7))
put("ckpt", "config_ln_eps_nan.grok", patch(wts, C["ln_eps"], "<d", float("nan")))
put("ckpt", "config_other_model.grok", patch(wts, C["d_mlp"], "<I", 32))
put("ckpt", "table_n_params_wrong.grok", patch(wts, C["n_params"], "<I", 3))
put("ckpt", "table_num_huge.grok", patch(wts, C["num"], "<Q", 1 << 62))
put("ckpt", "table_num_small.grok", patch(wts, C["num"], "<Q", 4))

# ---- safetensors
def st(header, data=b"", raw_header=False):
    h = header if raw_header else json.dumps(header, separators=(",", ":")).encode()
    if isinstance(h, str):
        h = h.encode()
    return struct.pack("<Q", len(h)) + h + data


def t(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


d16 = bytes(range(16))
put("safetensors", "empty.safetensors", b"")
put("safetensors", "short_length.safetensors", b"\x10\0\0\0")
put("safetensors", "length_huge.safetensors", struct.pack("<Q", 1 << 63) + b"{}")
put("safetensors", "length_past_end.safetensors", struct.pack("<Q", 1000) + b"{}")
put("safetensors", "length_zero.safetensors", struct.pack("<Q", 0))
put("safetensors", "not_json.safetensors", st("hello", raw_header=True))
put("safetensors", "array.safetensors", st("[]", raw_header=True))
put("safetensors", "unclosed.safetensors", st('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}', d16, True))
put("safetensors", "trailing_comma.safetensors", st('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},}', d16, True))
put("safetensors", "duplicate_key.safetensors",
    st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', d16, True))
put("safetensors", "offsets_past_end.safetensors", st({"a": t("F32", [8], 0, 32)}, d16))
put("safetensors", "offsets_overlap.safetensors", st({"a": t("F32", [3], 0, 12), "b": t("F32", [2], 8, 16)}, d16))
put("safetensors", "offsets_gap.safetensors", st({"a": t("F32", [1], 0, 4), "b": t("F32", [2], 8, 16)}, d16))
put("safetensors", "offsets_reversed.safetensors", st({"a": t("F32", [0], 16, 0)}, d16))
put("safetensors", "offsets_float.safetensors", st('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0.0,16]}}', d16, True))
put("safetensors", "offsets_huge.safetensors", st({"a": t("F32", [4], 18446744073709551600, 16)}, d16))
put("safetensors", "data_longer.safetensors", st({"a": t("F32", [4], 0, 16)}, d16 + b"\0\0\0\0"))
put("safetensors", "dtype_unknown.safetensors", st({"a": t("F33", [4], 0, 16)}, d16))
put("safetensors", "shape_mismatch.safetensors", st({"a": t("F32", [5], 0, 16)}, d16))
put("safetensors", "shape_overflow.safetensors", st({"a": t("F32", [4611686018427387904, 4], 0, 16)}, d16))
put("safetensors", "shape_negative.safetensors", st({"a": t("F32", [-4], 0, 16)}, d16))
put("safetensors", "shape_nine_dims.safetensors", st({"a": t("U8", [1, 1, 1, 1, 1, 1, 1, 2, 8], 0, 16)}, d16))
put("safetensors", "key_bad_utf8.safetensors", st(b'{"\xc3(":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', d16, True))
put("safetensors", "key_bad_escape.safetensors", st('{"a\\x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', d16, True))
put("safetensors", "key_lone_surrogate.safetensors", st('{"\\ud800":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', d16, True))
put("safetensors", "missing_offsets.safetensors", st({"a": {"dtype": "F32", "shape": [4]}}, d16))
put("safetensors", "extra_field.safetensors", st({"a": dict(t("F32", [4], 0, 16), x=1)}, d16))
put("safetensors", "metadata_number.safetensors", st({"__metadata__": {"a": 1}}))
put("safetensors", "deep_nesting.safetensors", st('{"__metadata__":' + "[" * 2000 + "]" * 2000 + "}", raw_header=True))
put("safetensors", "nul_in_header.safetensors", st(b'{"a\0":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', d16, True))
# well-formed files that are not the fuzz model
model = open(os.path.join(seeds, "safetensors", "model.safetensors"), "rb").read()
hl = struct.unpack("<Q", model[:8])[0]
hdr = json.loads(model[8:8 + hl])
data = model[8 + hl:]


def model_variant(edit):
    h = json.loads(json.dumps(hdr))
    edit(h)
    return st(h, data)


b, e = hdr["embed.W_E"]["data_offsets"]
put("safetensors", "model_only_W_E.safetensors", st({"embed.W_E": t("F32", hdr["embed.W_E"]["shape"], 0, e - b)}, data[b:e]))


def wrong_shape(h):
    s = h["embed.W_E"]["shape"]
    h["embed.W_E"]["shape"] = [s[1], s[0]]


def wrong_dtype(h):
    h["embed.W_E"]["dtype"] = "I32"


def gelu(h):
    h["__metadata__"]["act_fn"] = "gelu"


def ln(h):
    h["__metadata__"]["normalization_type"] = "LN"


put("safetensors", "model_W_E_transposed.safetensors", model_variant(wrong_shape))
put("safetensors", "model_W_E_int32.safetensors", model_variant(wrong_dtype))
put("safetensors", "model_act_gelu.safetensors", model_variant(gelu))
put("safetensors", "model_norm_LN.safetensors", model_variant(ln))

# ---- .npy
def npy(d, data=b"", major=1, magic=b"\x93NUMPY"):
    h = d.encode() if isinstance(d, str) else d
    if major == 1:
        return magic + bytes([1, 0]) + struct.pack("<H", len(h)) + h + data
    return magic + bytes([major, 0]) + struct.pack("<I", len(h)) + h + data


def hdr_(descr, shape, fo="False"):
    return "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }\n" % (descr, fo, shape)


f12 = struct.pack("<3f", 1.0, 2.0, 3.0)
put("npy", "empty.npy", b"")
put("npy", "magic_only.npy", b"\x93NUMPY")
put("npy", "bad_magic.npy", npy(hdr_("<f4", "(3,)"), f12, magic=b"\x93NUMPX"))
put("npy", "version_4.npy", npy(hdr_("<f4", "(3,)"), f12, major=4))
put("npy", "header_len_past_end.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr'")
put("npy", "header_len_huge_v2.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr'")
put("npy", "not_a_dict.npy", npy("[1, 2, 3]\n", f12))
put("npy", "fortran_order.npy", npy(hdr_("<f4", "(3,)", "True"), f12))
put("npy", "descr_complex.npy", npy(hdr_("<c8", "(3,)"), f12))
put("npy", "descr_object.npy", npy(hdr_("|O", "(3,)"), f12))
put("npy", "shape_not_tuple.npy", npy(hdr_("<f4", "3"), f12))
put("npy", "shape_negative.npy", npy(hdr_("<f4", "(-3,)"), f12))
put("npy", "shape_overflow.npy", npy(hdr_("<f4", "(4611686018427387904, 4)"), f12))
put("npy", "shape_huge.npy", npy(hdr_("<f4", "(99999999999999999999,)"), f12))
put("npy", "shape_nine_dims.npy", npy(hdr_("<f4", "(1,1,1,1,1,1,1,1,3)"), f12))
put("npy", "shape_leading_zero.npy", npy(hdr_("<f4", "(03,)"), f12))
put("npy", "data_short.npy", npy(hdr_("<f4", "(4,)"), f12))
put("npy", "data_long.npy", npy(hdr_("<f4", "(2,)"), f12))
put("npy", "key_missing.npy", npy("{'descr': '<f4', 'shape': (3,), }\n", f12))
put("npy", "key_repeated.npy", npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}\n", f12))
put("npy", "key_extra.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}\n", f12))
put("npy", "no_newline.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f12))
put("npy", "unterminated_string.npy", npy("{'descr: '<f4', 'fortran_order': False, 'shape': (3,), }\n", f12))
put("npy", "nul_in_header.npy", npy("{'descr': '<f4\0', 'fortran_order': False, 'shape': (3,), }\n", f12))
# well-formed index files that are not a split of p = 5
def idx(values, descr="<i8", fmt="q"):
    return npy(hdr_(descr, "(%d,)" % len(values)), struct.pack("<%d%s" % (len(values), fmt), *values))


put("npy", "idx_out_of_range.npy", idx([0, 3, 25]))
put("npy", "idx_negative.npy", idx([0, -1, 3]))
put("npy", "idx_repeated.npy", idx([4, 7, 4]))
put("npy", "idx_huge.npy", idx([0, 3, 99999999999]))
put("npy", "idx_empty.npy", npy(hdr_("<i8", "(0,)")))
put("npy", "idx_float.npy", npy(hdr_("<f4", "(3,)"), f12))
put("npy", "idx_2d.npy", npy(hdr_("<i8", "(1, 2)"), struct.pack("<2q", 0, 1)))
print("corpus written to", out)
