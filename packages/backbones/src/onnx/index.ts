export { buildOnnxGraph, SUPPORTED_LAYERS, CONVERTER_VERSION, ONNX_OPSET, ONNX_IR_VERSION, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './keras-to-onnx.ts';
export { OnnxExtractor, type OnnxExtractorOptions } from './session.ts';
