import { emptyCounts } from '../activities/prefix-sync/counts';
import { formatReport } from '../client/cli';

test('the printed report adds up: what the role filter left out is apart from what was looked at', () => {
  const counts = emptyCounts();
  const text = formatReport({
    ...counts,
    instanceName: 'Default',
    netboxVersion: '4.2.9',
    netboxPrefixCount: 90,
    pages: 1,
    runs: 1,
    prefixes: 13,
    created: 10,
    skipped: { ...counts.skipped, filteredByRole: 77, unscoped: 2, noMatchingNetworkSite: 1 },
    missingNetworkSites: ['DM-Utica'],
  });
  expect(text).toContain('90 prefixes in NetBox, 1 page, 1 workflow run');
  expect(text).toContain('left out by the role filter: 77');
  expect(text).toContain('prefixes looked at: 13');
  expect(text).toMatch(/skipped: 3\n {6}unscoped: 2\n {6}noMatchingNetworkSite: 1/);
  expect(text).toContain('NetBox sites with no Network Site of that exact name: DM-Utica');
});
