/** Pipeline YAMLs the end-to-end tests share. */

/** 24 generated images, 1 epoch, 8 units: every stage runs, in seconds; quality is not the point. */
export const TINY = `name: tiny
seed: 42
ingest: { dataset: demo, demo: { images: 24, seed: 3 } }
features: { backbone: mobilenet_v2, batchSize: 16, shardSize: 16 }
tokenize: { vocabSize: 100, maxLength: 12 }
train: { decoder: attention-gru, epochs: 1, batchSize: 32, embedDim: 8, units: 8 }
evaluate: { split: test, maxLength: 12, samples: 1 }
`;
