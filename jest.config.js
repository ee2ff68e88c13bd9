/** Tests run through ts-jest without type-checking (isolatedModules); `npm run typecheck` does that once. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['<rootDir>/__tests__/setup/prod-mode.ts'],
  testTimeout: 60000,
};
