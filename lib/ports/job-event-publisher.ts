import type { JobEvent } from '../domain/job-event';

/** Announces a job's end to whoever listens (webhooks, operators' subscriptions). */
export interface JobEventPublisher {
  publish(event: JobEvent): Promise<void>;
}
