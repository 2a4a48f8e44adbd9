/** Tests run against a real Temporal dev server; one server per test file, files one after another. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  transform: { '^.+\\.ts$': 'ts-jest' },
  // A stray timer or socket must never hang CI; leaks show up as the 'did not exit' warning locally.
  forceExit: true,
};
