/** `npm run test:real-netbox`: the end-to-end suite against a real NetBox (scripts/real-netbox/e2e.sh starts it). */
const base = require('./jest.config');

module.exports = { ...base, testMatch: ['**/real-netbox/*.e2e.ts'], testTimeout: 300000 };
