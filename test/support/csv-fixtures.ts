import { demoCustomers } from '../../local/demo-data';
import { encodeCsvRow } from '../../lib/transform/data-processing';

export interface CsvFixture {
  text: string;
  /** Customer id of each data row, in file order, and whether the model should reject it. */
  rows: { id: string; bad: boolean }[];
}

/** A customer's columns as CSV files carry them: the id, then the model's fields. */
export const customerColumns = [
  'customer_id',
  'tenure_months',
  'monthly_charges',
  'support_calls',
  'contract',
  'paperless_billing',
  'senior_citizen',
];

const header = [...customerColumns, 'notes'];

/**
 * A CSV of customers with a header, CRLF line ends, and notes that hold commas, quotes and
 * newlines (so that rows span lines), with every `badEvery`-th row broken in one of several
 * ways the model must reject.
 */
export const customersCsv = (count: number, badEvery: number, seed = 17): CsvFixture => {
  const customers = demoCustomers(count, seed);
  const rows: CsvFixture['rows'] = [];
  const lines = [encodeCsvRow(header)];
  customers.forEach((customer, i) => {
    const notes =
      i % 7 === 0 ? `called about "billing",\nthen again` : i % 5 === 0 ? 'prefers email, not phone' : '';
    let cells: unknown[] = [
      customer.customer_id,
      customer.tenure_months,
      customer.monthly_charges,
      customer.support_calls,
      customer.contract,
      customer.paperless_billing,
      customer.senior_citizen,
      notes,
    ];
    const bad = badEvery > 0 && i % badEvery === badEvery - 1;
    if (bad) {
      const kind = Math.floor(i / badEvery) % 3;
      if (kind === 0) cells[1] = 'twelve';
      else if (kind === 1) cells[4] = 'lifetime';
      else cells = cells.slice(0, 5);
    }
    rows.push({ id: customer.customer_id, bad });
    lines.push(encodeCsvRow(cells));
  });
  return { text: `${lines.join('\r\n')}\r\n`, rows };
};
