import { Injectable } from '@nestjs/common';

/** The only source of "now" for services and jobs; pure code receives the time as an argument. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
