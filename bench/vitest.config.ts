import { defineProject } from 'vitest/config';

export default defineProject({
  // Sibling workspace packages resolve to their TypeScript sources, so tests need no build.
  ssr: { resolve: { conditions: ['@forge-tool/source'] } },
  test: {
    name: 'bench',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
