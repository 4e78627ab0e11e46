/**
 * Hires fix geometry (`StableDiffusionProcessingTxt2Img.calculate_target_resolution`).
 */

/** Latent downscale factor of every supported model. */
const OPT_F = 8;

/** Where the hires pass goes, and what the infotext says about it. */
export interface HiresTarget {
  /** Final image width after the latent is truncated to the requested box. */
  readonly width: number;
  readonly height: number;
  /** `Hires upscale` or `Hires resize`, with its value. */
  readonly infotextKey: 'Hires upscale' | 'Hires resize';
  readonly infotextValue: unknown;
}

/**
 * Computes the hires output size from the first-pass size.
 *
 * With no resize target the image is scaled by `hrScale`; with one, the first pass is scaled to
 * cover the box and the latent is cropped to it (Forge crops whole latent cells, so the final
 * size can differ from the box by less than 8 pixels).
 */
export function hiresTarget(
  width: number,
  height: number,
  hrScale: number,
  hrScaleRaw: unknown,
  resizeX: number,
  resizeY: number,
): HiresTarget {
  if (resizeX === 0 && resizeY === 0) {
    return {
      width: Math.trunc(width * hrScale),
      height: Math.trunc(height * hrScale),
      infotextKey: 'Hires upscale',
      infotextValue: hrScaleRaw,
    };
  }
  const resize = { infotextKey: 'Hires resize' as const, infotextValue: `${resizeX}x${resizeY}` };
  if (resizeY === 0)
    return { ...resize, width: resizeX, height: floorDiv(resizeX * height, width) };
  if (resizeX === 0)
    return { ...resize, width: floorDiv(resizeY * width, height), height: resizeY };

  const coverWidth = width / height < resizeX / resizeY;
  const upscaledX = coverWidth ? resizeX : floorDiv(resizeY * width, height);
  const upscaledY = coverWidth ? floorDiv(resizeX * height, width) : resizeY;
  const truncateX = floorDiv(upscaledX - resizeX, OPT_F);
  const truncateY = floorDiv(upscaledY - resizeY, OPT_F);
  return { ...resize, width: upscaledX - truncateX * OPT_F, height: upscaledY - truncateY * OPT_F };
}

/** Python's `//` on integers. */
function floorDiv(numerator: number, denominator: number): number {
  return Math.floor(numerator / denominator);
}
