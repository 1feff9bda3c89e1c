#pragma once
// Field numbers of the ONNX messages Neurona writes and reads (private to src/io), from
// onnx/onnx.proto (ONNX 1.12 as Debian ships it; the numbers have not changed since). One table
// for the writer and the reader, so that import decodes with the same names.
#include <cstdint>

namespace neurona::io::onnx_pb {

namespace model {  // ModelProto
constexpr uint32_t kIrVersion = 1, kProducerName = 2, kProducerVersion = 3, kDocString = 6, kGraph = 7,
                   kOpsetImport = 8, kMetadataProps = 14;
}
namespace opset_id {  // OperatorSetIdProto
constexpr uint32_t kDomain = 1, kVersion = 2;
}
namespace string_entry {  // StringStringEntryProto
constexpr uint32_t kKey = 1, kValue = 2;
}
namespace graph {  // GraphProto
constexpr uint32_t kNode = 1, kName = 2, kInitializer = 5, kDocString = 10, kInput = 11, kOutput = 12,
                   kValueInfo = 13;
}
namespace node {  // NodeProto
constexpr uint32_t kInput = 1, kOutput = 2, kName = 3, kOpType = 4, kAttribute = 5, kDocString = 6,
                   kDomain = 7;
}
namespace attribute {  // AttributeProto
constexpr uint32_t kName = 1, kF = 2, kI = 3, kS = 4, kT = 5, kG = 6, kFloats = 7, kInts = 8, kStrings = 9,
                   kTensors = 10, kGraphs = 11, kType = 20;
// AttributeProto.AttributeType
constexpr uint64_t kFloat = 1, kInt = 2, kString = 3, kTensor = 4, kGraph = 5, kFloatsType = 6, kIntsType = 7,
                   kStringsType = 8, kTensorsType = 9, kGraphsType = 10;
}  // namespace attribute
namespace tensor {  // TensorProto
constexpr uint32_t kDims = 1, kDataType = 2, kSegment = 3, kFloatData = 4, kInt32Data = 5, kStringData = 6,
                   kInt64Data = 7, kName = 8, kRawData = 9, kDoubleData = 10, kUint64Data = 11,
                   kExternalData = 13, kDataLocation = 14;
// TensorProto.DataType
constexpr int64_t kFloat = 1, kUint8 = 2, kInt8 = 3, kUint16 = 4, kInt16 = 5, kInt32 = 6, kInt64 = 7,
                  kString = 8, kBool = 9, kFloat16 = 10, kDouble = 11, kUint32 = 12, kUint64 = 13,
                  kComplex64 = 14, kComplex128 = 15, kBfloat16 = 16;
// TensorProto.DataLocation
constexpr int64_t kExternal = 1;
}  // namespace tensor
namespace value_info {  // ValueInfoProto
constexpr uint32_t kName = 1, kType = 2;
}
namespace type {  // TypeProto, TypeProto.Tensor
constexpr uint32_t kTensorType = 1;
constexpr uint32_t kElemType = 1, kShape = 2;
}  // namespace type
namespace shape {  // TensorShapeProto, TensorShapeProto.Dimension
constexpr uint32_t kDim = 1;
constexpr uint32_t kDimValue = 1, kDimParam = 2;
}  // namespace shape

}  // namespace neurona::io::onnx_pb
