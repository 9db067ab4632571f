/**
 * Preprocessing constants of the Keras applications (no TF.js import: the registry, and through it the
 * CLI's params schema, reads them without loading the runtime).
 */

/** ImageNet channel means and standard deviations, RGB, for [0,1] pixels (EfficientNet's Normalization). */
export const IMAGENET_MEAN_RGB = [0.485, 0.456, 0.406];
export const IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225];

/** `preprocess_input(mode='caffe')` (VGG16): BGR channel means subtracted from 0..255 pixels. */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];
