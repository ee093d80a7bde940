/**
 * The cron shapes users bring from Airflow (croniter) that cron-parser does not read, rewritten into what it reads
 * with the same meaning, or refused with the reason and what to write instead (docs/scheduling.md, "Schedules").
 *
 * - Day of month `N-L` and `N-L/S`: from day N to the last day of the month. Days past the end of a month never
 *   match, so it is `N-31` (croniter expands it the same way); cron-parser has no `L` inside a range.
 * - Day of week `L5` (croniter's "last Friday of the month") is cron-parser's `5L`.
 * - Lower-case `l` in these forms is `L` (croniter lower-cases the whole expression; cron-parser only knows `L`).
 *
 * Returns the five fields to hand to cron-parser, or the reason the expression is refused.
 */
export function normalizeCronFields(fields: readonly string[]): string[] | string {
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  const dom = rewriteList(dayOfMonth, dayOfMonthElement);
  if (typeof dom !== 'string') return dom.error;
  const dow = rewriteList(dayOfWeek, dayOfWeekElement);
  if (typeof dow !== 'string') return dow.error;
  return [minute, hour, dom, month, dow];
}

/**
 * cron-parser refuses, at parse time, a day of month that no listed month has (`0 0 30 2 *`, `0 0 31 4,6 *`):
 * such a schedule never fires. Its message names neither; this one does.
 */
export function neverFiresReason(fields: readonly string[], parserMessage: string): string | null {
  if (!/Invalid explicit day of month definition/i.test(parserMessage)) return null;
  const [, , dayOfMonth, month] = fields as [string, string, string, string];
  return `it never fires: no day in day-of-month '${dayOfMonth}' occurs in month '${month}' (L is the last day of any month)`;
}

type Refusal = { error: string };

/** Rewrites each element of a comma-separated field; the first refusal wins. */
function rewriteList(field: string, element: (value: string) => string | Refusal): string | Refusal {
  const out: string[] = [];
  for (const value of field.split(',')) {
    const rewritten = element(value);
    if (typeof rewritten !== 'string') return rewritten;
    out.push(rewritten);
  }
  return out.join(',');
}

/** `N-L` and `N-L/S` (a range up to the last day of the month); refuses the Quartz-only forms with what to use. */
function dayOfMonthElement(element: string): string | Refusal {
  const value = element.toUpperCase();
  if (value === 'L') return value;
  const toLast = /^(\d{1,2})-L(\/\d+)?$/.exec(value);
  if (toLast) return `${toLast[1]}-31${toLast[2] ?? ''}`;
  if (value.includes('W')) {
    return {
      error:
        `'${element}' in day-of-month: 'W' (nearest weekday) is not supported; ` +
        `list the days instead (for example '1-5' in day-of-month), or use day-of-week ('1-5' for Monday to Friday)`,
    };
  }
  if (/^L-\d+$/.test(value)) {
    return {
      error:
        `'${element}' in day-of-month: an offset from the last day is not supported; ` +
        `write 'L' for the last day, or a range to it such as '28-L'`,
    };
  }
  if (value.includes('L')) {
    return { error: `'${element}' in day-of-month: 'L' stands alone ('L', the last day) or ends a range ('25-L', '1-L/7')` };
  }
  return element;
}

/** croniter's `L5` (last Friday) is cron-parser's `5L`; a bare `L` means different days in different crons. */
function dayOfWeekElement(element: string): string | Refusal {
  const value = element.toUpperCase();
  const croniterLast = /^L([0-7]|SUN|MON|TUE|WED|THU|FRI|SAT)$/.exec(value);
  if (croniterLast) return `${croniterLast[1]}L`;
  if (/^([0-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L$/.test(value)) return value;
  if (value === 'L') {
    return {
      error:
        "'L' alone in day-of-week is not supported (Quartz reads it as Saturday): " +
        "write '6' for every Saturday, or '5L' for the last Friday of the month",
    };
  }
  return element;
}
