/** The version of the code that computes features: what a stored shard and a queued job are tied to. */
import { codeVersion } from '@caption/core';

export const featuresCodeVersion = () =>
  codeVersion(['core', 'backbones', 'features'], ['sharp', 'onnxruntime-node', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm']);
