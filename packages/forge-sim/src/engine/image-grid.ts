/**
 * Forge's `images.image_grid` with its default options (`n_rows = -1`, no empty-spot
 * prevention): about as many rows as the square root of the image count, cells as large as the
 * largest image, smaller images centred, the rest filled with the grid background colour.
 */
import type { RgbImage } from '../png.js';

/**
 * Lays images out in a grid.
 *
 * @param background - `grid_background_color`, `#rrggbb`
 */
export function imageGrid(images: readonly RgbImage[], background = '#ffffff'): RgbImage {
  const rows = Math.min(pythonRound(Math.sqrt(images.length)), images.length);
  const columns = Math.ceil(images.length / rows);
  const cellWidth = Math.max(...images.map((image) => image.width));
  const cellHeight = Math.max(...images.map((image) => image.height));
  const width = columns * cellWidth;
  const height = rows * cellHeight;
  const data = new Uint8Array(width * height * 3);
  fill(data, parseColour(background));

  images.forEach((image, index) => {
    const left = (index % columns) * cellWidth + Math.floor((cellWidth - image.width) / 2);
    const top =
      Math.floor(index / columns) * cellHeight + Math.floor((cellHeight - image.height) / 2);
    for (let row = 0; row < image.height; row++) {
      const source = image.data.subarray(row * image.width * 3, (row + 1) * image.width * 3);
      data.set(source, ((top + row) * width + left) * 3);
    }
  });
  return { width, height, data };
}

/** Python 3's `round()`: halves go to the even neighbour. */
function pythonRound(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

function parseColour(hex: string): [number, number, number] {
  const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) return [255, 255, 255];
  return [
    Number.parseInt(match[1] ?? 'ff', 16),
    Number.parseInt(match[2] ?? 'ff', 16),
    Number.parseInt(match[3] ?? 'ff', 16),
  ];
}

function fill(data: Uint8Array, [red, green, blue]: [number, number, number]): void {
  for (let offset = 0; offset < data.length; offset += 3) {
    data[offset] = red;
    data[offset + 1] = green;
    data[offset + 2] = blue;
  }
}
