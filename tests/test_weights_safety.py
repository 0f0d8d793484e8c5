"""Issue 9: a weights file is inert and bounded when loaded, and writing one never destroys anything.

Hostile files are built by hand (a small zip writer below), loaded in a memory-limited subprocess
where their cost matters, and fuzzed with hypothesis. Write targets are tried against folders, FIFOs,
sockets, links, a character device made in the test's own folder (root only) and the run's own input.
"""

import io
import json
import os
import re
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_studio.core import LSTMModel
from lstm_studio.core.model import MAX_LAYERS, MAX_PARAMETER_BYTES, MAX_UNITS, parameter_shapes
from lstm_studio.weights import FORMAT, WeightsError, check_target, load_weights, save_weights
from lstm_studio.weights_archive import MAX_DIRECTORY_BYTES

ROOT = Path(__file__).resolve().parent.parent
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
FUZZ = settings(
    max_examples=int(os.environ.get("LSTM_STUDIO_FUZZ_EXAMPLES", "150")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def small_model(dtype=np.float64) -> LSTMModel:
    return LSTMModel(2, [3, 2], 2, loss="cross_entropy", seed=5, dtype=dtype)


def meta_for(model: LSTMModel, /, **changes) -> dict:
    return {"task": "sine", "format": dict(FORMAT), "model": model.config(), **changes}


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(shape: tuple, descr: str = "<f8", fortran_order: bool = False) -> bytes:
    """Only the header of an array: what a file may claim without holding the data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": fortran_order, "shape": shape})
    return buffer.getvalue()


def meta_npy(meta: object) -> bytes:
    return npy(np.array(json.dumps(meta)))


@dataclass
class Raw:
    """A zip member as it lies on disk: ``data`` already compressed when ``method`` says so."""

    name: str
    data: bytes
    file_size: int | None = None  # declared uncompressed size; len(data) by default
    crc: int | None = None
    method: int = zipfile.ZIP_STORED
    flags: int = 0


def raw_zip(path: Path, members: list[Raw]) -> Path:
    """Write a zip exactly as described, lies included (zipfile would not write most of these)."""
    out, directory = bytearray(), bytearray()
    for m in members:
        name = m.name.encode()
        size = len(m.data) if m.file_size is None else m.file_size
        crc = zlib.crc32(m.data) if m.crc is None else m.crc
        fields = (m.flags, m.method, 0, 33, crc, len(m.data), size, len(name))
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, *fields, 0, 0, 0, 0, 0, len(out)) + name
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *fields, 0) + name + m.data
    n = len(members)
    out += directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, len(directory), len(out), 0)
    path.write_bytes(bytes(out))
    return path


def valid_members(model: LSTMModel, meta: object | None = None) -> list[Raw]:
    arrays = [Raw(f"{name}.npy", npy(value)) for name, value in model.state_dict().items()]
    return [*arrays, Raw("meta.npy", meta_npy(meta_for(model) if meta is None else meta))]


def deflated_zeros(prefix: bytes, nbytes: int) -> bytes:
    """A raw deflate stream of ``prefix`` and then ``nbytes`` zero bytes, made in milliseconds.

    After a full flush the compressor starts afresh, so one compressed MiB of zeros can be repeated.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    mib = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    assert nbytes % (1 << 20) == 0
    return head + mib * (nbytes >> 20) + c.flush()


def bomb(name: str, nbytes: int) -> Raw:
    """A member that inflates to ``nbytes`` of zeros (plus its header) from about nbytes/1000 on disk."""
    header = npy_header((nbytes // 8,))
    return Raw(name, deflated_zeros(header, nbytes), len(header) + nbytes, crc=0, method=zipfile.ZIP_DEFLATED)


def refused(path: Path, match: str) -> str:
    """Load ``path``, expecting one plain line that names the file and matches ``match``."""
    with pytest.raises(WeightsError, match=match) as info:
        load_weights(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    return message


def finishes_quickly(function, *args, seconds: float = 5.0):
    """Run ``function`` in a thread: a FIFO opened for reading must not block us for ever."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(("ok", function(*args)))
        except BaseException as exc:  # handed back to the test's thread
            outcome.append(("raised", exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__} blocked"
    kind, value = outcome[0]
    if kind == "raised":
        raise value
    return value


def make_char_device(path: Path) -> Path:
    """/dev/null's numbers (1, 3), made in the test's own folder: harmless, and no real /dev entry is touched."""
    os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    return path


# ----- the model description: strict types and limits, shapes without allocating -----------------
def test_parameter_shapes_are_the_models_shapes():
    model = LSTMModel(3, [5, 4, 2], 6, dtype=np.float32)
    shapes = parameter_shapes(model.config())
    assert shapes == {name: p.shape for name, p in model.parameters().items()}
    assert list(shapes) == list(model.parameters())


def test_from_config_rebuilds_the_architecture():
    model = LSTMModel(3, [5, 4], 2, loss="cross_entropy", dtype=np.float32)
    assert LSTMModel.from_config(model.config()).config() == model.config()


def test_the_largest_model_the_window_trains_is_within_the_limits():
    config = {"input_size": 1, "hidden_sizes": [1024] * 8, "output_size": 1, "loss": "mse", "dtype": "float64"}
    assert len(parameter_shapes(config)) == 8 * 4 + 2


GOOD = {"input_size": 1, "hidden_sizes": [4, 3], "output_size": 2, "loss": "mse", "dtype": "float64"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"input_size": "32"}, "input_size must be an integer, not the string '32'"),
        ({"input_size": True}, "input_size must be an integer, not the boolean true"),
        ({"output_size": 3.0}, "output_size must be an integer, not 3.0"),
        ({"output_size": None}, "output_size must be an integer, not null"),
        ({"input_size": 0}, f"input_size must be between 1 and {MAX_UNITS}, not 0"),
        ({"input_size": -4}, "not -4"),
        ({"hidden_sizes": [10**6]}, rf"hidden_sizes\[0\] must be between 1 and {MAX_UNITS}, not 1000000"),
        ({"hidden_sizes": [4, 10**400]}, r"hidden_sizes\[1\] .* not an integer of 1329 bits"),
        ({"hidden_sizes": [4, False]}, r"hidden_sizes\[1\] must be an integer, not the boolean false"),
        ({"hidden_sizes": []}, f"hidden_sizes must be a list of 1 to {MAX_LAYERS} layer sizes, not a list of 0"),
        ({"hidden_sizes": [1] * (MAX_LAYERS + 1)}, "a list of 17"),
        ({"hidden_sizes": 32}, "hidden_sizes must be a list"),
        ({"hidden_sizes": "32,32"}, "not the string '32,32'"),
        ({"loss": "hinge"}, "loss must be one of mse, cross_entropy, not the string 'hinge'"),
        ({"loss": ["mse"]}, "loss must be one of"),
        ({"dtype": "float16"}, "dtype must be one of float32, float64, not the string 'float16'"),
        ({"hidden_sizes": [MAX_UNITS] * 2}, f"more than the limit of {MAX_PARAMETER_BYTES:,}"),
        (
            {"input_size": MAX_UNITS, "hidden_sizes": [2048] * 4},
            re.escape("would take 1,476,952,080 bytes, more than the limit of 1,073,741,824 (1 GiB)"),
        ),
        ({"extra": 1}, "unknown entry 'extra'"),
    ],
)
def test_from_config_refuses_inexact_descriptions(changes, message):
    with pytest.raises(ValueError, match=message):
        LSTMModel.from_config({**GOOD, **changes})


@pytest.mark.parametrize("config", [None, [], "model", {k: v for k, v in GOOD.items() if k != "loss"}])
def test_from_config_refuses_what_is_not_a_description(config):
    with pytest.raises(ValueError, match=r"must be an object|loss is missing"):
        parameter_shapes(config)


# ----- what may be loaded: the path itself --------------------------------------------------------
def test_a_folder_is_refused(tmp_path):
    refused(tmp_path, "is a folder")


@needs_fifo
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "w.npz"
    os.mkfifo(fifo)
    with pytest.raises(WeightsError, match=r"is not a regular file \(a FIFO\)"):
        finishes_quickly(load_weights, fifo)
    link = tmp_path / "link.npz"
    link.symlink_to(fifo)
    with pytest.raises(WeightsError, match="a FIFO"):
        finishes_quickly(load_weights, link)


@pytest.mark.skipif(not IS_ROOT, reason="making a device node needs root")
def test_a_device_is_refused(tmp_path):
    refused(make_char_device(tmp_path / "null"), r"is not a regular file \(a character device\)")


def test_a_broken_link_is_no_such_file(tmp_path):
    (tmp_path / "w.npz").symlink_to(tmp_path / "gone.npz")
    refused(tmp_path / "w.npz", "no such file")


# ----- what may be loaded: the archive -----------------------------------------------------------
def test_a_hand_made_archive_loads(tmp_path):
    """The zip writer of these tests makes files the loader reads (so the refusals below are real)."""
    model = small_model()
    loaded, meta = load_weights(raw_zip(tmp_path / "w.npz", valid_members(model)))
    assert meta["model"] == model.config()
    np.testing.assert_array_equal(loaded.state_dict()["dense.weight"], model.state_dict()["dense.weight"])


def test_a_member_present_twice_is_refused_whichever_comes_first(tmp_path):
    model = small_model()
    members = valid_members(model)
    other = Raw("dense.bias.npy", npy(np.full(2, 7.0)))
    for order in ([*members, other], [other, *members]):
        refused(raw_zip(tmp_path / "twice.npz", order), r"the member dense\.bias\.npy appears twice")


def test_duplicates_written_by_zipfile_are_refused_too(tmp_path, monkeypatch):
    path = save_weights(tmp_path / "w.npz", small_model(), {})
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns "Duplicate name" and writes it anyway
        archive.writestr("meta.npy", meta_npy(meta_for(small_model(), task="other")))
    refused(path, "meta.npy appears twice")


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (Raw("notes.txt", b"hello"), r"notes\.txt is not an array \(a foreign file in the archive\)"),
        (Raw("folder/", b""), "folder/ is not an array"),
        (Raw("evil\nname.npy", b""), r"unexpected array 'evil\\nname'"),
        (Raw("dense.weight.npy", b"", flags=1), r"dense\.weight\.npy is encrypted"),
        (Raw("dense.weight.npy", b"BZh9", method=zipfile.ZIP_BZIP2), "compression method 12; only stored or deflated"),
    ],
)
def test_foreign_and_unreadable_members_are_refused(tmp_path, member, message):
    members = [m for m in valid_members(small_model()) if m.name != member.name]
    refused(raw_zip(tmp_path / "w.npz", [*members, member]), message)


def test_a_huge_zip_directory_is_refused_before_it_is_parsed(tmp_path):
    entries = MAX_DIRECTORY_BYTES // 46 + 100
    refused(raw_zip(tmp_path / "many.npz", [Raw(f"{k}.npy", b"") for k in range(entries)]), "zip directory takes")


def test_a_zip64_record_claiming_a_huge_directory_is_refused(tmp_path):
    """zipfile takes the directory size from a zip64 end record when a locator precedes the end record."""
    path = raw_zip(tmp_path / "w.npz", valid_members(small_model()))
    content = path.read_bytes()
    end = content.rfind(b"PK\x05\x06")
    directory_at = struct.unpack_from("<L", content, end + 16)[0]
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, 1 << 40, directory_at)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1)
    path.write_bytes(content[:end] + record + locator + content[end:])
    refused(
        path, f"its zip directory takes 1,099,511,627,776 bytes; a weights file's takes at most {MAX_DIRECTORY_BYTES:,}"
    )


def replace_member(model: LSTMModel, name: str, member: Raw, meta: object | None = None) -> list[Raw]:
    return [member if m.name == name else m for m in valid_members(model, meta)]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("dense.bias.npy", npy(np.zeros(2).astype(">f8")), "dense.bias is big-endian float64; weights files are"),
        ("dense.bias.npy", npy(np.zeros(2, dtype=np.complex128)), "dense.bias is complex128, the model is float64"),
        ("dense.bias.npy", npy(np.zeros(2, dtype=[("a", "<f8")])), r"dense.bias is \[\('a', '<f8'\)\], the model"),
        ("dense.bias.npy", npy(np.zeros((2, 1))), r"dense.bias has shape \(2, 1\), the model needs \(2,\)"),
        ("dense.bias.npy", npy_header((2,)) + bytes(16) + b"junk", r"declares 148 bytes, but its .npy header .* 144"),
        ("dense.bias.npy", npy_header((2,)) + bytes(8), "declares 136 bytes, but its .npy header describes 144"),
        ("dense.bias.npy", b"\x93NUMPY\x03\x00" + npy(np.zeros(2))[8:], "version 3.0, which is not read"),
        ("dense.bias.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", 10**6), "1,000,000-byte header; the limit"),
        ("dense.bias.npy", b"\x93NUMPY\x01\x00\x05\x00hello", r"unreadable header"),
        ("dense.bias.npy", b"PK\x03\x04 not an array", r"dense\.bias\.npy is not an array \(no \.npy header\)"),
        ("dense.bias.npy", b"\x93NUMPY\x01\x00\x40", "ends early"),
        ("meta.npy", npy(np.array(b"{}")), "'meta' must be a 0-d unicode array"),
        ("meta.npy", npy_header((), "<U100000000"), "'meta' holds 100,000,000 characters; the limit is 1,048,576"),
        ("meta.npy", npy_header((), "<U1000000000"), "header .*not a valid dtype descriptor: '<U1000000000'"),
        ("meta.npy", npy_header((), "<U1") + b"\x00\xd8\x00\x00", "'meta' is not valid text"),  # a lone surrogate
    ],
)
def test_array_headers_are_checked_before_any_data_is_read(tmp_path, name, data, message):
    refused(raw_zip(tmp_path / "w.npz", replace_member(small_model(), name, Raw(name, data))), message)


def test_fortran_order_arrays_load_with_their_values(tmp_path):
    model = small_model()
    weight = np.asfortranarray(np.arange(24.0).reshape(12, 2) / 10)
    assert npy_header((12, 2), fortran_order=True) in npy(weight)
    member = Raw("lstm.weight_ih_l0.npy", npy(weight))
    loaded, _ = load_weights(raw_zip(tmp_path / "f.npz", replace_member(model, member.name, member)))
    np.testing.assert_array_equal(loaded.state_dict()["lstm.weight_ih_l0"], weight)


def test_a_member_shorter_than_declared_is_refused(tmp_path):
    data = npy(np.zeros(2))
    member = Raw("dense.bias.npy", data[:-8], file_size=len(data))
    refused(raw_zip(tmp_path / "w.npz", replace_member(small_model(), member.name, member)), "ends early")


def test_a_damaged_member_is_refused(tmp_path):
    data = npy(np.zeros(2))
    member = Raw("dense.bias.npy", data, crc=zlib.crc32(data) ^ 1)
    refused(raw_zip(tmp_path / "w.npz", replace_member(small_model(), member.name, member)), r"is damaged \(Bad CRC")


def test_a_float32_model_refuses_float64_arrays(tmp_path):
    model = small_model(np.float32)
    member = Raw("dense.bias.npy", npy(np.zeros(2)))
    refused(raw_zip(tmp_path / "w.npz", replace_member(model, member.name, member)), "is float64, the model is float32")


# ----- what may be loaded: meta --------------------------------------------------------------------
def meta_text_member(text: str) -> Raw:
    return Raw("meta.npy", npy(np.array(text)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": {"name": "lstm-studio-weights", "version": 1}, "seed": NaN}', "holds NaN, which JSON does not"),
        ('{"seed": -Infinity}', "holds -Infinity"),
        ('{"seed": 1e999}', r"a number a float cannot hold \(1e999\)"),
        ('{"seed": ' + "9" * 5000 + "}", "a number of 5,000 digits"),
        ('{"task": 1, "task": 2}', r"gives 'task' twice"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('"just a string"', "'meta' must be a JSON object"),
        ('{"format": {"name": "lstm-studio-weights", "version": true}}', "format version true is not supported"),
        ('{"format": {"name": "lstm-studio-weights", "version": 1.0}}', "format version 1.0 is not supported"),
        ('{"format": {"name": "lstm-studio-weights", "version": 1, "x": 0}}', "unknown entry 'x'"),
        ('{"format": "lstm-studio-weights"}', 'format "lstm-studio-weights"'),
        ('{"format": {"name": "a\\nb"}}', r'format "a\\nb"'),
    ],
)
def test_meta_must_be_strict_bounded_json(tmp_path, text, message):
    path = raw_zip(tmp_path / "w.npz", replace_member(small_model(), "meta.npy", meta_text_member(text)))
    refused(path, message)


@pytest.mark.parametrize(
    ("model_changes", "message"),
    [
        ({"hidden_sizes": ["3", 2]}, r"hidden_sizes\[0\] must be an integer, not the string '3'"),
        ({"input_size": True}, "input_size must be an integer, not the boolean true"),
        ({"hidden_sizes": [10**6]}, f"between 1 and {MAX_UNITS}, not 1000000"),
        ({"hidden_sizes": [MAX_UNITS] * MAX_LAYERS}, f"more than the limit of {MAX_PARAMETER_BYTES:,}"),
        ({"dtype": "float16"}, "dtype must be one of"),
    ],
)
def test_the_model_description_is_checked_before_anything_is_allocated(tmp_path, model_changes, message):
    model = small_model()
    meta = meta_for(model, model={**model.config(), **model_changes})
    path = raw_zip(tmp_path / "w.npz", valid_members(model, meta))
    assert refused(path, message).startswith(f"{path}: the model description in meta is invalid: ")


def test_loaded_meta_is_plain_json(tmp_path):
    model = small_model()
    meta = {"series": {"csv": "data.csv", "horizon": 3}, "classes": ["a", "é"], "metrics": {"val_loss": 0.25}}
    _, loaded = load_weights(save_weights(tmp_path / "w.npz", model, meta))
    assert json.loads(json.dumps(loaded, allow_nan=False)) == loaded
    assert loaded["classes"] == ["a", "é"] and loaded["series"]["horizon"] == 3


# ----- memory: hostile files cost nothing measurable, proved under an address-space limit -----------
MEMORY_PROBE = """
    import json, resource, sys
    import numpy as np
    from lstm_studio.weights import WeightsError, load_weights

    def vm_bytes():
        status = open("/proc/self/status").read()
        return int(status.split("VmSize:")[1].split()[0]) * 1024

    resource.setrlimit(resource.RLIMIT_AS, (vm_bytes() + {headroom}, resource.RLIM_INFINITY))
    try:
        np.ones({proof} // 8)
        sandbox = "not enforced"
    except MemoryError:
        sandbox = "enforced"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcomes = {{}}
    for path in sys.argv[1:]:
        try:
            load_weights(path)
            outcomes[path] = "loaded"
        except WeightsError as exc:
            outcomes[path] = str(exc)
        except MemoryError:
            outcomes[path] = "MemoryError"
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({{"sandbox": sandbox, "outcomes": outcomes, "grown_kib": grown}}))
"""
HEADROOM = 3 << 29  # 1.5 GiB beyond what the interpreter with numpy and the loader holds


def hostile_files(folder: Path) -> dict[Path, str]:
    """Each hostile file the issue names (and a few more), with the message its refusal must carry."""
    model = small_model()
    meta_header = npy_header((), "<U536608768")  # 2 GiB of text, about numpy's largest string
    big_meta = Raw("meta.npy", deflated_zeros(meta_header, 2047 << 20), len(meta_header) + (2047 << 20), 0, 8)
    huge_layer = meta_for(model, model={**model.config(), "hidden_sizes": [10**6]})
    many_layers = meta_for(model, model={**model.config(), "hidden_sizes": [MAX_UNITS] * 10**4})
    samples = meta_for(model, model={**model.config(), "hidden_sizes": [4096] * MAX_LAYERS})
    cases = {
        "extra-bomb.npz": ([*valid_members(model), bomb("bomb.npy", 3 << 30)], "unexpected array bomb"),
        "member-bomb.npz": (replace_member(model, "dense.bias.npy", bomb("dense.bias.npy", 3 << 30)), "has shape"),
        "meta-bomb.npz": (replace_member(model, "meta.npy", big_meta), "536,608,768 characters; the limit"),
        "huge-layer.npz": (valid_members(model, huge_layer), "not 1000000"),
        "many-layers.npz": (valid_members(model, many_layers), "a list of 10000"),
        "budget.npz": (valid_members(model, samples), "more than the limit"),
        "twice.npz": ([*valid_members(model), bomb("meta.npy", 1 << 30)], "appears twice"),
        "nested.npz": (replace_member(model, "meta.npy", meta_text_member("[" * 100_000)), "nested too deeply"),
    }
    return {raw_zip(folder / name, members): message for name, (members, message) in cases.items()}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and limits the address space")
def test_hostile_files_are_refused_within_a_memory_limit(tmp_path):
    files = hostile_files(tmp_path)
    assert all(path.stat().st_size < 4 << 20 for path in files), "each hostile file is small"
    code = textwrap.dedent(MEMORY_PROBE.format(headroom=HEADROOM, proof=2 * HEADROOM))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, files)], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sandbox"] == "enforced"  # the limit is real: 3 GiB cannot be had
    for path, message in files.items():
        outcome = report["outcomes"][str(path)]
        assert outcome.startswith(f"{path}: ") and message in outcome, (path.name, outcome)
    assert report["grown_kib"] < 64 * 1024, report  # all eight together: under 64 MiB of resident memory


# ----- writing: the target ------------------------------------------------------------------------
def test_an_empty_name_is_refused():
    with pytest.raises(WeightsError, match="give a file name"):
        check_target("")


def test_a_name_ending_in_a_separator_is_refused(tmp_path):
    with pytest.raises(WeightsError, match="it names a folder; give a file name"):
        check_target(f"{tmp_path / 'newdir'}{os.sep}")


def test_a_folder_is_never_replaced(tmp_path):
    with pytest.raises(WeightsError, match="it is a folder; give a file name"):
        save_weights(tmp_path, small_model(), {})


def test_a_missing_or_odd_parent_is_refused(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        check_target(tmp_path / "nope" / "w.npz")
    (tmp_path / "file").write_text("x")
    with pytest.raises(WeightsError, match=r"file is not a folder"):
        check_target(tmp_path / "file" / "w.npz")


def test_an_unwritable_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # as root, permissions never refuse
    with pytest.raises(WeightsError, match="is not writable"):
        check_target(tmp_path / "w.npz")


def test_check_target_returns_the_path(tmp_path):
    assert check_target(str(tmp_path / "w.npz")) == tmp_path / "w.npz"
    (tmp_path / "w.npz").write_text("old")
    assert check_target(tmp_path / "w.npz") == tmp_path / "w.npz"  # a regular file may be replaced


@needs_fifo
def test_a_fifo_is_never_replaced_nor_opened(tmp_path):
    fifo = tmp_path / "w.npz"
    os.mkfifo(fifo)
    link = tmp_path / "link.npz"
    link.symlink_to(fifo)
    for target in (fifo, link):
        with pytest.raises(WeightsError, match="it is a FIFO, not a regular file"):
            finishes_quickly(save_weights, target, small_model(), {})
    assert stat.S_ISFIFO(fifo.stat().st_mode) and link.is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "w.npz"]


def test_a_socket_is_never_replaced(tmp_path):
    path = tmp_path / "s"
    if not hasattr(socket, "AF_UNIX") or len(str(path)) > 100:
        pytest.skip("no short unix socket path here")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(WeightsError, match="it is a socket"):
            save_weights(path, small_model(), {})
        assert stat.S_ISSOCK(path.stat().st_mode)


@pytest.mark.skipif(not IS_ROOT, reason="making a device node needs root")
def test_a_device_is_never_replaced_even_by_root(tmp_path):
    device = make_char_device(tmp_path / "null")
    link = tmp_path / "link.npz"
    link.symlink_to(device)
    for target in (device, link):
        with pytest.raises(WeightsError, match="it is a character device, not a regular file"):
            save_weights(target, small_model(), {})
        with pytest.raises(WeightsError, match="character device"):
            check_target(target)
    assert stat.S_ISCHR(device.stat().st_mode) and device.stat().st_rdev == os.makedev(1, 3)
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "null"]


@pytest.fixture
def csv(tmp_path) -> Path:
    path = tmp_path / "data.csv"
    path.write_text("value\n1\n2\n3\n")
    return path


def test_the_runs_own_input_is_never_overwritten(tmp_path, csv, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sym.csv").symlink_to(csv)
    os.link(csv, tmp_path / "hard.csv")
    for target in (csv, Path("data.csv"), tmp_path / "sym.csv", tmp_path / "hard.csv", f"{tmp_path}/./data.csv"):
        with pytest.raises(WeightsError, match=r"refusing to write the weights over .*: it is the same file as"):
            save_weights(target, small_model(), {}, inputs=[csv])
        with pytest.raises(WeightsError, match="which this run reads"):
            check_target(target, inputs=[Path("sym.csv")])
    assert csv.read_text() == "value\n1\n2\n3\n"
    assert sorted(os.listdir(tmp_path)) == ["data.csv", "hard.csv", "sym.csv"]


def test_other_files_beside_the_input_are_fine(tmp_path, csv):
    path = save_weights(tmp_path / "w.npz", small_model(), {}, inputs=[csv, tmp_path / "absent.csv"])
    assert load_weights(path)[0].config() == small_model().config()


# ----- writing: no temporary file survives an exit Python can catch ---------------------------------
def test_ctrl_c_during_a_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = save_weights(tmp_path / "w.npz", small_model(), {})
    original = path.read_bytes()

    def interrupted(f, **arrays):
        f.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_weights(path, LSTMModel(1, [2], 1), {})
    assert path.read_bytes() == original and os.listdir(tmp_path) == ["w.npz"]


def test_a_target_that_turns_into_a_fifo_during_the_write_is_not_replaced(tmp_path, monkeypatch):
    target = tmp_path / "w.npz"
    real_savez = np.savez

    def swapped(f, **arrays):
        real_savez(f, **arrays)
        os.mkfifo(target)

    monkeypatch.setattr(np, "savez", swapped)
    with pytest.raises(WeightsError, match="it is a FIFO"):
        save_weights(target, small_model(), {})
    assert stat.S_ISFIFO(target.stat().st_mode) and os.listdir(tmp_path) == ["w.npz"]


@pytest.mark.skipif(not hasattr(os, "kill") or sys.platform == "win32", reason="POSIX signals")
def test_sigterm_during_a_save_leaves_no_temporary_file(tmp_path):
    code = f"""
        import os, signal, sys, time
        import numpy as np
        from lstm_studio.core import LSTMModel
        from lstm_studio.weights import save_weights

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # as the command line does
        def killed(f, **arrays):
            f.write(b"x" * 100_000)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)
        np.savez = killed
        save_weights({str(tmp_path / "w.npz")!r}, LSTMModel(1, [2], 1), {{}})
    """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, timeout=60, cwd=ROOT)
    assert result.returncode == 143, result.stderr
    assert os.listdir(tmp_path) == []


def test_meta_the_loader_would_refuse_is_never_written(tmp_path):
    for meta, message in [({"seed": 10**200}, "a number of 201 digits"), ({"x": "a" * (1 << 20)}, "the limit is")]:
        with pytest.raises(WeightsError, match=f"meta cannot be stored: .*{message}"):
            save_weights(tmp_path / "w.npz", small_model(), meta)
    assert os.listdir(tmp_path) == []


# ----- fuzzing: whatever the bytes, load_weights raises WeightsError or returns an exact model -------
@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def valid_file(fuzz_dir) -> bytes:
    return save_weights(
        fuzz_dir / "valid.npz", LSTMModel(1, [3], 2, seed=1), {"task": "sine", "seq_len": 4}
    ).read_bytes()


def load_outcome(path: Path) -> None:
    """The fuzzing invariant: a clean one-line WeightsError, or a finite model exactly as meta describes."""
    try:
        model, meta = load_weights(path)
    except WeightsError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc) and len(str(exc)) < 400, str(exc)
        return
    assert model.config() == meta["model"]
    assert all(np.isfinite(p).all() for p in model.parameters().values())
    assert json.loads(json.dumps(meta, allow_nan=False)) == meta


@FUZZ
@given(data=st.data())
def test_fuzz_mutated_bytes(fuzz_dir, valid_file, data):
    content = bytearray(valid_file)
    for _ in range(data.draw(st.integers(0, 8), label="flips")):
        at = data.draw(st.integers(0, len(content) - 1))
        content[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(content))), label="truncate at")
    junk = data.draw(st.binary(max_size=64), label="appended")
    path = fuzz_dir / "mutated.npz"
    path.write_bytes(bytes(content[:cut]) + junk)
    load_outcome(path)


@FUZZ
@given(content=st.binary(max_size=4096))
def test_fuzz_random_bytes(fuzz_dir, content):
    path = fuzz_dir / "random.npz"
    path.write_bytes(content)
    load_outcome(path)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.sampled_from([0, 1, -1, 32, 8192, 8193, 10**6, 2**63, 10**99])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["32", "true", "false", "mse", "cross_entropy", "float32", "float64", ""]),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=12,
)
MODEL_KEYS = ["input_size", "hidden_sizes", "output_size", "loss", "dtype"]


@FUZZ
@given(data=st.data())
def test_fuzz_meta_mutations(fuzz_dir, data):
    model = LSTMModel(1, [3, 2], 2, seed=1)
    meta = meta_for(model)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        part = meta[data.draw(st.sampled_from(["model", "model", "format"]))]
        if not isinstance(part, dict):
            break
        key = data.draw(st.sampled_from([*MODEL_KEYS, "name", "version", "extra"]))
        action = data.draw(st.sampled_from(["replace", "delete", "layer"]))
        if action == "delete":
            part.pop(key, None)
        elif action == "layer" and isinstance(part.get("hidden_sizes"), list):
            part["hidden_sizes"] = data.draw(st.lists(JSON_VALUES, max_size=20) | st.lists(st.integers(), max_size=20))
        else:
            part[key] = data.draw(JSON_VALUES)
    if data.draw(st.booleans(), label="replace a whole part"):
        meta[data.draw(st.sampled_from(["model", "format"]))] = data.draw(JSON_VALUES)
    members = valid_members(model, meta)
    if data.draw(st.booleans(), label="arrays fit the edited model"):
        try:
            fitting = LSTMModel.from_config(meta["model"])
            members = valid_members(fitting, meta)
        except (ValueError, TypeError, KeyError):
            pass
    load_outcome(raw_zip(fuzz_dir / "meta.npz", members))


@FUZZ
@given(data=st.data())
def test_fuzz_archive_structure(fuzz_dir, data):
    """Members dropped, repeated, renamed, truncated, recompressed or given wrong declared sizes."""
    members = valid_members(LSTMModel(1, [3], 2, seed=1))
    members = data.draw(st.lists(st.sampled_from(members), max_size=len(members) + 2))
    edited = []
    for m in members:
        m = Raw(m.name, m.data)
        edit = data.draw(st.sampled_from(["none", "rename", "size", "cut", "deflate", "crc"]))
        if edit == "rename":
            m.name = data.draw(st.sampled_from(["meta", "x.npy", "dense.bias.npy", "meta.npy", "", "a/../b.npy"]))
        elif edit == "size":
            m.file_size = data.draw(st.integers(0, 2**32 - 1))
        elif edit == "cut":
            m.file_size = len(m.data)
            m.data = m.data[: data.draw(st.integers(0, len(m.data)))]
        elif edit == "deflate":
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            m.file_size, m.crc = len(m.data), zlib.crc32(m.data)
            m.data, m.method = c.compress(m.data) + c.flush(), zipfile.ZIP_DEFLATED
        elif edit == "crc":
            m.crc = data.draw(st.integers(0, 2**32 - 1))
        edited.append(m)
    load_outcome(raw_zip(fuzz_dir / "structure.npz", edited))
