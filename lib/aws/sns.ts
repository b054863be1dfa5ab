import { PublishCommand } from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import { snsClient } from './clients';
import { resources } from '../config';
import type { JobEvent } from '../domain/job-event';
import type { JobEventPublisher } from '../ports/job-event-publisher';

/** Publishes to job-events as the state machine does: the event as JSON, `type` and `model` as attributes. */
export class SnsJobEventPublisher implements JobEventPublisher {
  constructor(
    private readonly client: () => SNSClient = snsClient.get,
    private readonly topicArn: () => string = resources.jobEventsTopicArn,
  ) {}

  async publish(event: JobEvent) {
    await this.client().send(
      new PublishCommand({
        TopicArn: this.topicArn(),
        Message: JSON.stringify(event),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: event.type },
          model: { DataType: 'String', StringValue: event.model },
        },
      }),
    );
  }
}
