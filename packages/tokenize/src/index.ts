export { runTokenize, TOKENIZE_SCHEMA_VERSION } from './stage.ts';
export { tokenizeParamsSchema, type TokenizeParams } from './params.ts';
export { tokenizeCaptions, resolveMaxLength, type TokenRow, type CaptionInput } from './transform.ts';
export * from './vocabulary.ts';
