import { encodeImageBatch } from './images/image-batch';

/** Piscina task: one slice of a batch of images, decoded and preprocessed off the main thread. */
export default encodeImageBatch;
