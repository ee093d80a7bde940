/** The suggestions of the DAG document's messages: the same as every request body's (src/common/suggest.ts). */
export { closestName, didYouMean } from '../../common/suggest.js';
