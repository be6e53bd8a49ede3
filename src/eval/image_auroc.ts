/**
 * Image-level AUROC as the MVTec AD evaluation computes it (`roc_curve_util.
 * compute_classification_roc` + `trapezoid`): image score = max of its map, label = whether its
 * mask has any defect pixel.
 * @module
 */
import { trapezoid } from "./trapezoid.ts";

/** ROC curve of image classification, FPR ascending. */
export interface ImageRoc {
  fpr: number[];
  tpr: number[];
}

/**
 * Classification ROC from image scores and labels (true = defective).
 * @returns null when there are no good or no defective images (the AUROC is undefined).
 */
export function classificationRoc(
  scores: readonly number[],
  labels: readonly boolean[],
): ImageRoc | null {
  if (scores.length !== labels.length) {
    throw new Error(`classificationRoc: ${scores.length} scores but ${labels.length} labels`);
  }
  const numNok = labels.filter((l) => l).length;
  const numOk = labels.length - numNok;
  if (numNok === 0 || numOk === 0) return null;
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  // Start with every image called anomalous, raise the threshold past each distinct score.
  const fpr = [1], tpr = [1];
  let fp = numOk, tp = numNok;
  for (let k = 0; k < order.length; k++) {
    if (labels[order[k]]) tp--;
    else fp--;
    if (k === order.length - 1 || scores[order[k + 1]] !== scores[order[k]]) {
      fpr.push(fp / numOk);
      tpr.push(tp / numNok);
    }
  }
  return { fpr: fpr.reverse(), tpr: tpr.reverse() };
}

/** Image AUROC, or null when undefined (no good or no defective images). */
export function imageAuroc(scores: readonly number[], labels: readonly boolean[]): number | null {
  const roc = classificationRoc(scores, labels);
  return roc ? trapezoid(roc.fpr, roc.tpr) : null;
}
