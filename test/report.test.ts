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

test('prefixes found on another site than their block point to reconcile, which a full sync is not', () => {
  const counts = emptyCounts();
  const base = { ...counts, instanceName: 'Default', netboxVersion: '4.7.3', netboxPrefixCount: 90, pages: 1, runs: 1 };
  expect(formatReport(base)).not.toContain('reconcile');
  const moved = formatReport({ ...base, skipped: { ...counts.skipped, ownBlockOnAnotherSite: 2 } });
  expect(moved).toContain("2 prefixes moved to another site since their block was made (webhooks lost?): a full sync only adds; run: sync reconcile --instance 'Default'");
});
