"""grokh - grok.h from Python: ctypes over python/libgrokh.so (`make python`) and numpy.

    import grokh
    train, test = grokh.modadd_task(53, frac_train=0.3, data_seed=598)
    with grokh.Model(grokh.modadd_config(53), max_batch=53 * 53) as m:
        m.train(train, test, epochs=3000, eval_every=100,
                on_eval=lambda epoch, metrics: metrics["test_acc"] > 0.99)
        cache = m.run_with_cache(train.tokens[:8])
        print(cache["blocks.0.attn.hook_pattern"].shape)   # (8, 4, 3, 3)

Everything is computed by grok.h; this module only moves numpy arrays in and out. Arrays handed
back are numpy copies that Python owns, so nothing returned here points into C memory that a
later call or a free could invalidate. The C objects (models, caches, tasks) are freed by
close(), by `with`, or at the latest by __del__. Failures raise GrokError with grok.h's message.

The library is python/libgrokh.so next to this file, or the path in the GROKH_LIB variable.
"""

import ctypes as C
import os

import numpy as np

__all__ = [
    "GrokError", "Config", "modadd_config", "Model", "Data", "modadd_task", "modop_task", "group_task",
    "digits_batch", "DigitsRng", "ModTask", "ActivationCache", "fourier_basis", "fourier_basis_names",
    "fourier_norms", "key_freqs", "neuron_freqs", "modadd_run", "modadd_restricted", "svd", "svd_truncation",
    "gini", "pair_rows", "threads_set", "threads_get", "OP_ADD", "OP_SUB", "OP_MUL", "OP_DIV", "OP_POW_SUM", "OP_SQ_SUM",
    "OP_SQ_CROSS", "OP_SQ_CROSS_PLUS_A", "OP_CUBE_CROSS", "OP_CUBE_CROSS_SQ", "OP_DIV_IF_ODD", "OP_ADD_OR_MUL",
    "OP_ADD_OR_SUB", "GROUP_CYCLIC", "GROUP_DIHEDRAL", "GROUP_SYMMETRIC", "GROUP_ALTERNATING", "GROUP_OP_COMPOSE",
    "GROUP_OP_CONJUGATE", "GROUP_OP_XYX", "DIRS_SUM", "DIRS_TASK",
]

# Enum values of grok.h (grok_modop, grok_group_kind, grok_group_op, grok_dirs): part of its API,
# hence stable.
(OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW_SUM, OP_SQ_SUM, OP_SQ_CROSS, OP_SQ_CROSS_PLUS_A, OP_CUBE_CROSS,
 OP_CUBE_CROSS_SQ, OP_DIV_IF_ODD, OP_ADD_OR_MUL, OP_ADD_OR_SUB) = range(13)
GROUP_CYCLIC, GROUP_DIHEDRAL, GROUP_SYMMETRIC, GROUP_ALTERNATING = range(4)
GROUP_OP_COMPOSE, GROUP_OP_CONJUGATE, GROUP_OP_XYX = range(3)
DIRS_SUM, DIRS_TASK = range(2)

_NAME_MAX = 40  # GROK_NAME_MAX: the name buffers of grokpy_model_param and grokpy_cache_entry


def _load_library():
    path = os.environ.get("GROKH_LIB") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "libgrokh.so")
    if not os.path.exists(path):
        raise OSError("grokh: %s not found; build it with `make python` (or set GROKH_LIB)" % path)
    return C.CDLL(path)


_lib = _load_library()

_i32p = np.ctypeslib.ndpointer(dtype=np.int32, flags="C_CONTIGUOUS")
_i64p = np.ctypeslib.ndpointer(dtype=np.int64, flags="C_CONTIGUOUS")
_u64p = np.ctypeslib.ndpointer(dtype=np.uint64, flags="C_CONTIGUOUS")
_f32p = np.ctypeslib.ndpointer(dtype=np.float32, flags="C_CONTIGUOUS")
_f64p = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
_vp, _cp, _int, _dbl = C.c_void_p, C.c_char_p, C.c_int, C.c_double

# Optional array arguments (NULL allowed) are declared c_void_p and passed through _ptr().
_EVAL_FN = C.CFUNCTYPE(_int, C.c_int64, C.POINTER(C.c_double))


def _proto(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


for _name, _res, _args in [
    ("grok_last_error", _cp, []),
    ("grok_status_name", _cp, [_int]),
    ("grok_threads_set", _int, [_int]),
    ("grok_threads_get", _int, []),
    ("grokpy_config_modadd", None, [_int, _i64p, _f64p]),
    ("grokpy_file_config", _int, [_cp, _int, _i64p, _f64p]),
    ("grokpy_model_new", _vp, [_i64p, _f64p, _int]),
    ("grokpy_model_free", None, [_vp]),
    ("grokpy_model_config", None, [_vp, _i64p, _f64p]),
    ("grokpy_model_state", None, [_vp, _i64p, _f64p]),
    ("grokpy_model_param", _int, [_vp, _int, _cp, C.POINTER(_int), C.POINTER(_int), C.POINTER(C.c_int64),
                                  C.POINTER(_int)]),
    ("grokpy_model_buffer", C.POINTER(C.c_float), [_vp, _int]),
    ("grokpy_model_get_adamw", None, [_vp, _f64p]),
    ("grokpy_model_set_adamw", None, [_vp, _f64p]),
    ("grok_model_set_trainable", _int, [_vp, _cp, _int]),
    ("grok_model_forward", _int, [_vp, _i32p, _vp, _int, C.POINTER(_dbl), C.POINTER(_dbl), _vp]),
    ("grok_model_evaluate", _int, [_vp, _i32p, _i32p, _int, C.POINTER(_dbl), C.POINTER(_dbl)]),
    ("grok_checkpoint_save", _int, [_vp, _cp, _int]),
    ("grok_checkpoint_load", _int, [_vp, _cp]),
    ("grok_model_save_safetensors", _int, [_vp, _cp, _vp]),
    ("grok_model_load_safetensors", _int, [_vp, _cp]),
    ("grokpy_task_modop", _int, [_int, _int, _int, _int, _dbl, C.c_uint64, C.POINTER(_int), _i32p, _i32p,
                                 C.POINTER(_int), _i32p, _i32p]),
    ("grokpy_group_order", _int, [_int, _int]),
    ("grokpy_task_group", _int, [_int, _int, _int, _dbl, C.c_uint64, C.POINTER(_int), _i32p, _i32p, C.POINTER(_int),
                                 _i32p, _i32p]),
    ("grokpy_rng_seed", None, [_u64p, C.c_uint64]),
    ("grokpy_task_digits", _int, [_int, _int, _u64p, _i32p, _i32p]),
    ("grokpy_modtask_new", _vp, [_int, _int, _int, _int, _int]),
    ("grokpy_modtask_from_data", _vp, [_int, _int, _int, _i32p, _i32p, _int, _i32p, _i32p]),
    ("grokpy_modtask_info", None, [_vp, _i32p, _i32p, _cp]),
    ("grokpy_modtask_free", None, [_vp]),
    ("grokpy_train", _int, [_vp, C.c_int64, C.c_int64, C.c_int64, _cp, _int, _int, _int, _EVAL_FN, _int, _int,
                            _i32p, _i32p, _int, _i32p, _i32p]),
    ("grokpy_cache_run", _vp, [_vp, _i32p, _int, _cp, _vp]),
    ("grokpy_cache_size", _int, [_vp]),
    ("grokpy_cache_entry", C.POINTER(C.c_float), [_vp, _int, _cp, C.POINTER(_int), C.POINTER(_int),
                                                  C.POINTER(C.c_int64)]),
    ("grokpy_cache_free", None, [_vp]),
    ("grokpy_grad_cache_run", _vp, [_vp, _i32p, _int, _cp, _vp, _vp, _vp, _int, C.POINTER(_dbl)]),
    ("grokpy_patch", _int, [_vp, _int, _i32p, _i32p, _int, _int, _int, _vp, _vp, _vp, _int, _f64p]),
    ("grok_patch_shape", _int, [_i32p, C.POINTER(_int), _vp, _int, _int]),
    ("grok_fourier_basis", _int, [_f64p, _int]),
    ("grok_fourier_basis_name", _int, [_cp, C.c_size_t, _int, _int]),
    ("grok_fourier_norms", _int, [_f64p, _f32p, _int, _int, _int]),
    ("grok_key_freqs", _int, [_i32p, _f64p, C.POINTER(_int), _f64p, _f64p, _int, _dbl]),
    ("grok_neuron_freqs", _int, [_i32p, _f64p, _vp, _f32p, _int, _int, _dbl]),
    ("grok_modadd_run", _int, [_vp, _vp, _vp, _vp, _vp, _vp]),
    ("grok_modadd_restricted", _int, [C.POINTER(_dbl), C.POINTER(_dbl), _vp, _vp, _f32p, _int, _i32p, _int, _vp,
                                      _int, _vp]),
    ("grok_svd", _int, [_vp, _vp, _vp, _f64p, _int, _int, _int]),
    ("grok_svd_truncation", _int, [_f64p, C.POINTER(_dbl), _f32p, _int, _int, _int]),
    ("grok_gini", _int, [C.POINTER(_dbl), _f64p, _int]),
]:
    _proto(_name, _res, *_args)


class GrokError(RuntimeError):
    """A grok.h call failed: .status is its grok_status (e.g. "GROK_ERR_ARG" in .status_name), the
    message is grok_last_error()."""

    def __init__(self, status, message):
        self.status = status
        self.status_name = _lib.grok_status_name(status).decode()
        super().__init__(message)


def _error(status=-1):
    return GrokError(status, _lib.grok_last_error().decode(errors="replace"))


def _check(status):
    if status != 0:
        raise _error(status)


def _ptr(a):
    """An optional array argument: None is NULL, else the address of a C-contiguous array the
    caller keeps alive for the call."""
    return None if a is None else a.ctypes.data


def _as(a, dtype, what, ndim=None):
    # numpy would silently reinterpret a wrong dtype through a raw pointer; convert, and check the
    # rank here because C cannot see a shape.
    a = np.ascontiguousarray(a, dtype=dtype)
    if ndim is not None and a.ndim != ndim:
        raise GrokError(-1, "%s: expected a %d-d array, got shape %s" % (what, ndim, a.shape))
    return a


def threads_set(n):
    """grok.h's worker threads (n <= 0: GROK_THREADS or the CPU count); returns the count."""
    return _lib.grok_threads_set(n)


def threads_get():
    return _lib.grok_threads_get()


# ---- configs

# grok_config's fields, in the order grokpy_* passes them (int64 values, then doubles).
CONFIG_INTS = ("n_layers", "n_heads", "d_model", "d_head", "d_mlp", "d_vocab", "d_vocab_out", "n_ctx", "act_fn",
               "normalization", "seed", "train_biases")
CONFIG_DBLS = ("init_range", "ln_eps")


# grok_patch_site, in order: the sites of act_patch and attr_patch
PATCH_SITES = ["resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out", "z", "q", "k", "v", "pattern", "neuron"]


class Config(dict):
    """grok_config as a dict with attribute access. act_fn: "relu" / "gelu" (or 0 / 1);
    normalization: "LN" / None (or 1 / 0); zeros mean grok.h's defaults where it has them."""

    def __init__(self, **fields):
        super().__init__({k: 0 for k in CONFIG_INTS + CONFIG_DBLS})
        self.update(act_fn="relu", normalization=None)
        for k, v in fields.items():
            if k not in self:
                raise TypeError("Config: no field %r (fields: %s)" % (k, ", ".join(CONFIG_INTS + CONFIG_DBLS)))
            self[k] = v

    __getattr__ = dict.__getitem__

    def __setattr__(self, k, v):
        self[k] = v

    def _to_c(self):
        act = {"relu": 0, "gelu": 1}.get(self["act_fn"], self["act_fn"])
        norm = {None: 0, "None": 0, "LN": 1}.get(self["normalization"], self["normalization"])
        vals = dict(self, act_fn=act, normalization=norm)
        iv = np.array([int(vals[k]) if k != "seed" else np.uint64(vals[k]).astype(np.int64) for k in CONFIG_INTS],
                      dtype=np.int64)
        return iv, np.array([float(vals[k]) for k in CONFIG_DBLS], dtype=np.float64)

    @classmethod
    def _from_c(cls, iv, dv):
        vals = dict(zip(CONFIG_INTS, (int(x) for x in iv)))
        vals["seed"] = int(np.int64(iv[10]).astype(np.uint64))
        vals["act_fn"] = "gelu" if vals["act_fn"] else "relu"
        vals["normalization"] = "LN" if vals["normalization"] else None
        vals.update(zip(CONFIG_DBLS, (float(x) for x in dv)))
        return cls(**vals)


def _cfg_buffers():
    return np.zeros(len(CONFIG_INTS), np.int64), np.zeros(len(CONFIG_DBLS), np.float64)


def modadd_config(p, **overrides):
    """Seed 000's model for modulus p (grok_config_modadd), with any field overridden."""
    iv, dv = _cfg_buffers()
    _lib.grokpy_config_modadd(p, iv, dv)
    cfg = Config._from_c(iv, dv)
    for k, v in overrides.items():
        if k not in cfg:
            raise TypeError("modadd_config: no field %r" % k)
        cfg[k] = v
    return cfg


# ---- data

class Data:
    """A data set as grok_data holds it: tokens and targets (n, n_ctx) int32, -1 where a position
    has no loss term."""

    def __init__(self, tokens, targets):
        self.tokens = _as(tokens, np.int32, "Data tokens", 2)
        self.targets = _as(targets, np.int32, "Data targets", 2)
        if self.tokens.shape != self.targets.shape:
            raise GrokError(-1, "Data: tokens %s and targets %s differ in shape" % (self.tokens.shape,
                                                                                 self.targets.shape))

    def __len__(self):
        return self.tokens.shape[0]

    @property
    def labels(self):
        """The target of the last position (modular tasks' label)."""
        return self.targets[:, -1]

    def __repr__(self):
        return "Data(n=%d, n_ctx=%d)" % self.tokens.shape


def _split(call, rows):
    # C copies into arrays sized for every row the task can make; the counts say how many it made.
    bufs = [np.empty((rows, 3), np.int32) for _ in range(4)]
    n_train, n_test = C.c_int(0), C.c_int(0)
    _check(call(C.byref(n_train), bufs[0], bufs[1], C.byref(n_test), bufs[2], bufs[3]))
    return (Data(bufs[0][:n_train.value], bufs[1][:n_train.value]),
            Data(bufs[2][:n_test.value], bufs[3][:n_test.value]))


def modop_task(op, p, frac_train=0.3, data_seed=598, m=4, n=4):
    """grok_task_modop: (train, test) Data of the pairs (a, b, '=' = p) under op, shuffled and split.
    m, n: the exponents of OP_POW_SUM."""
    return _split(lambda *a: _lib.grokpy_task_modop(op, p, m, n, frac_train, data_seed, *a), p * p)


def modadd_task(p, frac_train=0.3, data_seed=598):
    """Seed 000's modular addition split (grok_task_modadd's data, bit for bit)."""
    return modop_task(OP_ADD, p, frac_train, data_seed)


def group_task(kind, n, frac_train=0.3, data_seed=598, op=GROUP_OP_COMPOSE):
    """grok_task_group_op: seed 003's composition x y in C_n, D_n, S_n or A_n (kind GROUP_*), or
    the grokking paper's x y x^-1 (GROUP_OP_CONJUGATE) or x y x (GROUP_OP_XYX); '=' = order."""
    order = _lib.grokpy_group_order(kind, n)
    if order < 0:
        raise _error()
    return _split(lambda *a: _lib.grokpy_task_group(kind, n, op, frac_train, data_seed, *a), order * order)


class DigitsRng:
    """A grok_rng carried as its four state words: successive digits_batch calls continue it."""

    def __init__(self, seed):
        self.state = np.zeros(4, np.uint64)
        _lib.grokpy_rng_seed(self.state, seed)


def digits_batch(n_digits, B, rng):
    """grok_task_digits: B fresh n-digit addition questions, Data (B, 3n+3), drawn from rng (a
    DigitsRng, advanced)."""
    T = 3 * n_digits + 3
    tokens = np.zeros((max(B, 0), max(T, 0)), np.int32)
    targets = np.zeros_like(tokens)
    _check(_lib.grokpy_task_digits(n_digits, B, rng.state, tokens, targets))
    return Data(tokens, targets)


class _Handle:
    """An owned C object: freed once, by close(), `with` or __del__."""
    _free = None

    def __init__(self, ptr):
        if not ptr:
            raise _error()
        self._ptr = ptr

    def close(self):
        if getattr(self, "_ptr", None):
            type(self)._free(self._ptr)
            self._ptr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    @property
    def ptr(self):
        if not self._ptr:
            raise GrokError(-1, "%s: used after close()" % type(self).__name__)
        return self._ptr


class ModTask(_Handle):
    """grok_modtask: the labels and trig-sum directions the loss-based analyses take.
    ModTask(op, p, m=4, n=4, dirs=DIRS_SUM), or ModTask.from_data(p, train, test)."""
    _free = staticmethod(_lib.grokpy_modtask_free)

    def __init__(self, op, p, m=4, n=4, dirs=DIRS_SUM):
        super().__init__(_lib.grokpy_modtask_new(op, p, m, n, dirs))
        self.p = p

    @classmethod
    def from_data(cls, p, train, test=None):
        e = np.zeros((0, train.tokens.shape[1]), np.int32)
        te = test if test is not None else Data(e, e)
        ptr = _lib.grokpy_modtask_from_data(p, train.tokens.shape[1], len(train), train.tokens, train.targets,
                                            len(te), te.tokens, te.targets)
        task = cls.__new__(cls)  # the handle comes from grokpy_modtask_from_data, not __init__
        _Handle.__init__(task, ptr)
        task.p = p
        return task

    def info(self):
        """(labels (p*p), sums (p*p), name) of the task."""
        labels = np.empty(self.p * self.p, np.int32)
        sums = np.empty(self.p * self.p, np.int32)
        name = C.create_string_buffer(80)
        _lib.grokpy_modtask_info(self.ptr, labels, sums, name)
        return labels, sums, name.value.decode()


# ---- the activation cache

class ActivationCache(dict):
    """Every hook point of one run as a numpy array (batch first) under its TransformerLens name,
    like TransformerLens' ActivationCache; .logits holds the logits (B, T, V)."""

    def __init__(self, entries, logits):
        super().__init__(entries)
        self.logits = logits

    def __repr__(self):
        return "ActivationCache(%s)" % ", ".join("%s %s" % (k, v.shape) for k, v in self.items())


def _copy_strided(ptr, shape, strides):
    """A numpy copy of the float32 tensor at ptr with these shape and strides (in elements)."""
    if 0 in shape:
        return np.zeros(shape, np.float32)
    # The flat span the view reaches: the last element's offset + 1.
    span = 1 + sum((n - 1) * s for n, s in zip(shape, strides))
    flat = np.ctypeslib.as_array(ptr, shape=(span,))
    view = np.lib.stride_tricks.as_strided(flat, shape=tuple(shape), strides=tuple(4 * s for s in strides))
    return np.array(view, copy=True)


# ---- models

_BUFFERS = {"weights": 0, "grads": 1, "adam_m": 2, "adam_v": 3}
_METRICS = ("train_loss", "test_loss", "train_acc", "test_acc")


class Model(_Handle):
    """A grok_model (the transformer). Model(config, max_batch) builds and initialises one;
    Model.load(path) reads a grok.h checkpoint or a safetensors state dict (TransformerLens names).
    max_batch: the sequences one forward holds (the training set must fit)."""
    _free = staticmethod(_lib.grokpy_model_free)

    def __init__(self, config, max_batch=1):
        if not isinstance(config, Config):
            config = Config(**config)
        iv, dv = config._to_c()
        super().__init__(_lib.grokpy_model_new(iv, dv, max_batch))

    @classmethod
    def load(cls, path, max_batch=1, safetensors=None):
        """A model from a file: safetensors when the name ends in .safetensors (or safetensors=True),
        else a grok.h checkpoint (weights, optimizer state, step, epoch, metrics)."""
        path = os.fspath(path)
        if safetensors is None:
            safetensors = path.endswith(".safetensors")
        iv, dv = _cfg_buffers()
        _check(_lib.grokpy_file_config(path.encode(), int(safetensors), iv, dv))
        m = cls(Config._from_c(iv, dv), max_batch)
        try:
            m.load_weights(path, safetensors)
        except Exception:
            m.close()
            raise
        return m

    def load_weights(self, path, safetensors=None):
        path = os.fspath(path)
        if safetensors is None:
            safetensors = path.endswith(".safetensors")
        f = _lib.grok_model_load_safetensors if safetensors else _lib.grok_checkpoint_load
        _check(f(self.ptr, path.encode()))

    def save(self, path, with_optimizer=True):
        """grok_checkpoint_save: the whole state, resumable when with_optimizer."""
        _check(_lib.grok_checkpoint_save(self.ptr, os.fspath(path).encode(), int(with_optimizer)))

    def save_safetensors(self, path):
        """grok_model_save_safetensors: the weights under TransformerLens' names, config in __metadata__."""
        _check(_lib.grok_model_save_safetensors(self.ptr, os.fspath(path).encode(), None))

    # -- state

    @property
    def config(self):
        iv, dv = _cfg_buffers()
        _lib.grokpy_model_config(self.ptr, iv, dv)
        return Config._from_c(iv, dv)

    def _state(self):
        st = np.zeros(5, np.int64)
        met = np.zeros(4, np.float64)
        _lib.grokpy_model_state(self.ptr, st, met)
        return st, met

    step = property(lambda self: int(self._state()[0][0]))
    epoch = property(lambda self: int(self._state()[0][1]))
    max_batch = property(lambda self: int(self._state()[0][2]))
    num_parameters = property(lambda self: int(self._state()[0][3]))

    @property
    def metrics(self):
        """The last evaluation: train_loss, test_loss, train_acc, test_acc."""
        return dict(zip(_METRICS, (float(x) for x in self._state()[1])))

    def param_table(self):
        """[(name, shape, offset, trainable)] in the model's table order."""
        out = []
        name = C.create_string_buffer(_NAME_MAX)
        ndim, offset, trainable = C.c_int(), C.c_int64(), C.c_int()
        shape = (C.c_int * 4)()
        for i in range(int(self._state()[0][4])):
            _check(_lib.grokpy_model_param(self.ptr, i, name, C.byref(ndim), shape, C.byref(offset),
                                           C.byref(trainable)))
            out.append((name.value.decode(), tuple(shape[:ndim.value]), offset.value, bool(trainable.value)))
        return out

    def _buffer(self, which):
        ptr = _lib.grokpy_model_buffer(self.ptr, _BUFFERS[which])
        return np.ctypeslib.as_array(ptr, shape=(self.num_parameters,))

    def params(self, buffer="weights"):
        """{name: copy} of every parameter (buffer: weights, grads, adam_m, adam_v)."""
        flat = self._buffer(buffer)
        return {n: flat[o:o + int(np.prod(s))].reshape(s).copy() for n, s, o, _ in self.param_table()}

    def __getitem__(self, name):
        return self.params()[name]

    def set_param(self, name, value, buffer="weights"):
        """Copies value into the parameter `name` (its exact shape)."""
        for n, s, o, _ in self.param_table():
            if n == name:
                value = np.asarray(value, np.float32)
                if value.shape != s:
                    raise GrokError(-1, "set_param %s: shape %s, expected %s" % (name, value.shape, s))
                self._buffer(buffer)[o:o + value.size] = value.ravel()
                return
        raise KeyError(name)

    def set_trainable(self, substring, trainable):
        """grok_model_set_trainable: returns how many parameters matched."""
        return _lib.grok_model_set_trainable(self.ptr, substring.encode(), int(trainable))

    @property
    def adamw(self):
        v = np.zeros(5)
        _lib.grokpy_model_get_adamw(self.ptr, v)
        return dict(zip(("lr", "weight_decay", "beta1", "beta2", "eps"), (float(x) for x in v)))

    def set_adamw(self, **kw):
        """Changes AdamW's lr, weight_decay, beta1, beta2 or eps."""
        cur = self.adamw
        for k, v in kw.items():
            if k not in cur:
                raise TypeError("set_adamw: no field %r" % k)
            cur[k] = v
        _lib.grokpy_model_set_adamw(self.ptr, np.array(list(cur.values()), np.float64))

    # -- running

    def _tokens(self, tokens):
        t = _as(tokens, np.int32, "tokens", 2)
        if t.shape[1] != self.config.n_ctx:
            raise GrokError(-1, "tokens: shape %s, expected (B, n_ctx = %d)" % (t.shape, self.config.n_ctx))
        return t

    def _vocab_out(self):
        c = self.config
        return c.d_vocab_out or c.d_vocab

    def forward(self, tokens, targets=None):
        """grok_model_forward on B <= max_batch sequences: (logits (B, T, V), loss, acc); loss and acc
        are None without targets."""
        t = self._tokens(tokens)
        tg = None if targets is None else _as(targets, np.int32, "targets", 2)
        if tg is not None and tg.shape != t.shape:
            raise GrokError(-1, "forward: targets %s, tokens %s" % (tg.shape, t.shape))
        logits = np.empty(t.shape + (self._vocab_out(),), np.float32)
        loss, acc = C.c_double(), C.c_double()
        _check(_lib.grok_model_forward(self.ptr, t, _ptr(tg), t.shape[0], C.byref(loss), C.byref(acc), _ptr(logits)))
        return (logits, loss.value, acc.value) if tg is not None else (logits, None, None)

    def evaluate(self, data):
        """grok_model_evaluate: (loss, accuracy) over a Data set (any size, in chunks)."""
        t = self._tokens(data.tokens)
        loss, acc = C.c_double(), C.c_double()
        _check(_lib.grok_model_evaluate(self.ptr, t, data.targets, len(data), C.byref(loss), C.byref(acc)))
        return loss.value, acc.value

    def train(self, train, test=None, epochs=25000, eval_every=100, checkpoint_every=0, out_dir=None,
              progress=0, keep_history=False, progress_measures=False, on_eval=None):
        """grok_train to `epochs` (counted from the model's epoch), full batch. on_eval(epoch, metrics)
        runs after every evaluation with metrics as Model.metrics; returning True stops training.
        An exception raised in on_eval stops training and is raised from here."""
        raised = []

        def adapter(epoch, met):
            # An exception cannot cross C frames: keep it, stop training, raise it after grok_train.
            try:
                return 1 if on_eval(int(epoch), dict(zip(_METRICS, met[:4]))) else 0
            except BaseException as e:  # noqa: B902 - KeyboardInterrupt must stop training too
                raised.append(e)
                return 1

        # The CFUNCTYPE object must outlive the call, hence the local name.
        fn = _EVAL_FN(adapter) if on_eval else _EVAL_FN()
        e = np.zeros((0, train.tokens.shape[1]), np.int32)
        te = test if test is not None else Data(e, e)
        st = _lib.grokpy_train(self.ptr, epochs, eval_every, checkpoint_every,
                               None if out_dir is None else os.fspath(out_dir).encode(), progress, int(keep_history),
                               int(progress_measures), fn, train.tokens.shape[1], len(train), train.tokens,
                               train.targets, len(te), te.tokens, te.targets)
        if raised:
            raise raised[0]
        _check(st)
        return self.metrics

    def run_with_cache(self, tokens, names=None):
        """grok_cache_run on tokens (B, n_ctx): an ActivationCache of every hook point (or those whose
        name contains one of the substrings in names, a list or a comma-separated string)."""
        t = self._tokens(tokens)
        logits = np.empty(t.shape + (self._vocab_out(),), np.float32)
        if isinstance(names, (list, tuple)):
            names = ",".join(names)
        cache = _lib.grokpy_cache_run(self.ptr, t, t.shape[0], None if names is None else names.encode(),
                                      _ptr(logits))
        if not cache:
            raise _error()
        return ActivationCache(self._cache_entries(cache), logits)

    def _cache_entries(self, cache):
        """Copies every entry of a cache handle into a dict of numpy arrays, and frees the handle."""
        try:
            entries = {}
            name = C.create_string_buffer(_NAME_MAX)
            ndim = C.c_int()
            shape = (C.c_int * 4)()
            stride = (C.c_int64 * 4)()
            for i in range(_lib.grokpy_cache_size(cache)):
                ptr = _lib.grokpy_cache_entry(cache, i, name, C.byref(ndim), shape, stride)
                if not ptr:
                    raise _error()
                d = ndim.value
                entries[name.value.decode()] = _copy_strided(ptr, shape[:d], stride[:d])
        finally:
            _lib.grokpy_cache_free(cache)
        return entries

    def _metric_args(self, B, targets, correct, wrong):
        if (targets is None) == (correct is None or wrong is None):
            raise GrokError(-1, "give either targets (the loss) or correct and wrong (a logit difference)")
        if targets is not None:
            return _as(targets, np.int32, "targets", 2), None, None
        c, w = _as(correct, np.int32, "correct", 1), _as(wrong, np.int32, "wrong", 1)
        if c.shape[0] != B or w.shape[0] != B:
            raise GrokError(-1, "correct and wrong need one token per sequence (%d)" % B)
        return None, c, w

    def grad_cache(self, tokens, targets=None, correct=None, wrong=None, pos=-1, names=None):
        """grok_grad_cache_run: (metric, {hook point: gradient}) of the loss over targets (B, T), or of
        the mean logit difference logits[b, pos, correct[b]] - logits[b, pos, wrong[b]]."""
        t = self._tokens(tokens)
        tg, c, w = self._metric_args(t.shape[0], targets, correct, wrong)
        if isinstance(names, (list, tuple)):
            names = ",".join(names)
        value = C.c_double()
        cache = _lib.grokpy_grad_cache_run(self.ptr, t, t.shape[0], None if names is None else names.encode(), _ptr(tg),
                                           _ptr(c), _ptr(w), pos, C.byref(value))
        if not cache:
            raise _error()
        return value.value, self._cache_entries(cache)

    def _patch(self, attr, clean_tokens, corrupted_tokens, site, by_pos, targets, correct, wrong, pos):
        a, b = self._tokens(clean_tokens), self._tokens(corrupted_tokens)
        if a.shape != b.shape:
            raise GrokError(-1, "clean tokens %s, corrupted tokens %s" % (a.shape, b.shape))
        tg, c, w = self._metric_args(a.shape[0], targets, correct, wrong)
        if site not in PATCH_SITES:
            raise GrokError(-1, "site %r is not one of %s" % (site, ", ".join(PATCH_SITES)))
        s = PATCH_SITES.index(site)
        shape, ndim = np.zeros(3, np.int32), C.c_int()
        _check(_lib.grok_patch_shape(shape, C.byref(ndim), self.ptr, s, int(by_pos)))
        out = np.empty(tuple(shape[:ndim.value]), np.float64)
        _check(_lib.grokpy_patch(self.ptr, int(attr), a, b, a.shape[0], s, int(by_pos), _ptr(tg), _ptr(c), _ptr(w), pos,
                                 out))
        return out

    def act_patch(self, clean_tokens, corrupted_tokens, site, by_pos=True, targets=None, correct=None, wrong=None, pos=-1):
        """grok_act_patch: the metric of the corrupted run with each cell of site's grid patched from
        the clean run, in TransformerLens' index order (grok_patch_shape). site: a name of
        PATCH_SITES. The metric as grad_cache's."""
        return self._patch(0, clean_tokens, corrupted_tokens, site, by_pos, targets, correct, wrong, pos)

    def attr_patch(self, clean_tokens, corrupted_tokens, site, by_pos=True, targets=None, correct=None, wrong=None,
                   pos=-1):
        """grok_attr_patch: the first-order estimate of act_patch's change of the metric,
        sum of (clean - corrupted) * grad over the batch and each cell's slice."""
        return self._patch(1, clean_tokens, corrupted_tokens, site, by_pos, targets, correct, wrong, pos)

    def modadd_run(self):
        """grok_modadd_run over all p*p pairs: dict of logits (p*p, p), acts (p*p, d_mlp), resid_mid
        (p*p, d_model) at the last position, and to_a, to_b (H, p, p) attention of '=' onto a, b."""
        c = self.config
        p = c.d_vocab_out or c.d_vocab
        out = dict(logits=np.empty((p * p, p), np.float32), acts=np.empty((p * p, c.d_mlp), np.float32),
                   resid_mid=np.empty((p * p, c.d_model), np.float32), to_a=np.empty((c.n_heads, p, p)),
                   to_b=np.empty((c.n_heads, p, p)))
        _check(_lib.grok_modadd_run(*(_ptr(out[k]) for k in ("logits", "acts", "resid_mid", "to_a", "to_b")),
                                    self.ptr))
        return out


def modadd_run(model):
    return model.modadd_run()


# ---- analyses

def fourier_basis(p):
    """grok_fourier_basis: F (p, p), orthonormal rows; frequency k is rows 2k-1 (cos), 2k (sin)."""
    F = np.empty((p, p))
    _check(_lib.grok_fourier_basis(F, p))
    return F


def fourier_basis_names(p):
    buf = C.create_string_buffer(32)
    names = []
    for k in range(p):
        _check(_lib.grok_fourier_basis_name(buf, 32, k, p))
        names.append(buf.value.decode())
    return names


def fourier_norms(W, p, transpose=False):
    """grok_fourier_norms: squared norm of every row of F @ W[:p] (W (>= p, n), e.g. embed.W_E), or of
    F @ W^T with transpose (W (n, p), e.g. unembed.W_U)."""
    W = _as(W, np.float32, "fourier_norms W", 2)
    if (W.shape[1] if transpose else W.shape[0]) < p:
        raise GrokError(-1, "fourier_norms: W %s has fewer than p = %d %s" % (W.shape, p,
                                                                           "columns" if transpose else "rows"))
    norms = np.empty(p)
    n = W.shape[0] if transpose else W.shape[1]
    _check(_lib.grok_fourier_norms(norms, W, p, n, int(transpose)))
    return norms


def key_freqs(norms, min_share=0.05):
    """grok_key_freqs: (freqs, their shares, share of every frequency 1..(p-1)/2)."""
    norms = _as(norms, np.float64, "key_freqs norms", 1)
    p = norms.shape[0]
    half = (p - 1) // 2
    freqs = np.zeros(max(half, 1), np.int32)
    kshare = np.zeros(max(half, 1))
    share = np.zeros(max(half, 1))
    nk = C.c_int(0)
    _check(_lib.grok_key_freqs(freqs, kshare, C.byref(nk), share, norms, p, min_share))
    return freqs[:nk.value].copy(), kshare[:nk.value].copy(), share[:half].copy()


def neuron_freqs(acts, p, min_frac=0.85, fourier=False):
    """grok_neuron_freqs on acts (p*p, M) (Model.modadd_run()["acts"]): (freq (M), frac (M)), and the
    2-D spectrum (p, p, M) too with fourier=True. freq -1: no frequency (min_frac)."""
    acts = _as(acts, np.float32, "neuron_freqs acts", 2)
    if acts.shape[0] != p * p:
        raise GrokError(-1, "neuron_freqs: acts %s, expected (p*p = %d, M)" % (acts.shape, p * p))
    M = acts.shape[1]
    freq = np.zeros(M, np.int32)
    frac = np.zeros(M)
    spec = np.empty((p, p, M)) if fourier else None
    _check(_lib.grok_neuron_freqs(freq, frac, _ptr(spec), acts, p, M, min_frac))
    return (freq, frac, spec) if fourier else (freq, frac)


def modadd_restricted(logits, p, freqs, train_rows=None, task=None, logits_out=False):
    """grok_modadd_restricted on the logits (p*p, p) of all pairs: (restricted_loss, excluded_loss),
    and with logits_out=True also the restricted and excluded logits (p*p, p). train_rows: the pair
    rows (a*p+b) of the excluded loss (None: all); task: a ModTask (None: modular addition)."""
    logits = _as(logits, np.float32, "modadd_restricted logits", 2)
    if logits.shape != (p * p, p):
        raise GrokError(-1, "modadd_restricted: logits %s, expected (%d, %d)" % (logits.shape, p * p, p))
    freqs = _as(freqs, np.int32, "modadd_restricted freqs", 1)
    rows = None if train_rows is None else _as(train_rows, np.int32, "train_rows", 1)
    rl, el = C.c_double(), C.c_double()
    r = np.empty((p * p, p)) if logits_out else None
    e = np.empty((p * p, p)) if logits_out else None
    _check(_lib.grok_modadd_restricted(C.byref(rl), C.byref(el), _ptr(r), _ptr(e), logits, p, freqs, len(freqs),
                                       _ptr(rows), 0 if rows is None else len(rows),
                                       None if task is None else task.ptr))
    return (rl.value, el.value, r, e) if logits_out else (rl.value, el.value)


def pair_rows(data, p):
    """Row a*p+b of every pair (a, b, '=') in a modular Data set: train_rows for the analyses."""
    return (data.tokens[:, 0].astype(np.int64) * p + data.tokens[:, 1]).astype(np.int32)


def svd(A, full=False):
    """grok_svd of A (m, n): U, S, Vt with A = U diag(S) Vt, numpy.linalg.svd's shapes."""
    A = _as(A, np.float64, "svd A", 2)
    m, n = A.shape
    k = min(m, n)
    U = np.empty((m, m if full else k))
    S = np.empty(k)
    Vt = np.empty((n if full else k, n))
    _check(_lib.grok_svd(_ptr(U), _ptr(S), _ptr(Vt), A, m, n, int(full)))
    return U, S, Vt


def svd_truncation(W, r):
    """grok_svd_truncation (seed 000): (S, mean |(U - U_r) diag(S) V^T|) of W (rows, cols)."""
    W = _as(W, np.float32, "svd_truncation W", 2)
    S = np.empty(min(W.shape))
    err = C.c_double()
    _check(_lib.grok_svd_truncation(S, C.byref(err), W, W.shape[0], W.shape[1], r))
    return S, err.value


def gini(x):
    x = _as(x, np.float64, "gini x", 1)
    g = C.c_double()
    _check(_lib.grok_gini(C.byref(g), x, len(x)))
    return g.value
