import { mulberry32 } from '../lib/seeded-random';

/** Customers for the demo and the tests: deterministic, so a run can be compared with another. */

export interface Customer {
  customer_id: string;
  tenure_months: number;
  monthly_charges: number;
  support_calls: number;
  contract: 'month-to-month' | 'one-year' | 'two-year';
  paperless_billing: boolean;
  senior_citizen: boolean;
}

export const demoCustomers = (count: number, seed = 7): Customer[] => {
  const random = mulberry32(seed);
  const contracts = ['month-to-month', 'one-year', 'two-year'] as const;
  return Array.from({ length: count }, (_, i) => ({
    customer_id: `C${String(i + 1).padStart(6, '0')}`,
    tenure_months: Math.floor(random() * 73),
    monthly_charges: Math.round((18 + random() * 102) * 100) / 100,
    support_calls: Math.floor(random() * 11),
    contract: contracts[Math.floor(random() * 3)] ?? 'month-to-month',
    paperless_billing: random() < 0.6,
    senior_citizen: random() < 0.16,
  }));
};

export const toJsonLines = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
