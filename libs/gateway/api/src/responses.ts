import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class SessionTokenDoc {
  @ApiProperty({ description: 'the password for the gateway: single use, bound to the caller (the PostgreSQL user) and the target (the dbname)' }) token!: string;
  @ApiProperty({ format: 'date-time', description: 'unused after this, it no longer works' }) expiresAt!: string;
}

export class SessionSummaryDoc {
  @ApiProperty() sessionId!: string;
  @ApiProperty({ enum: ['live', 'ended', 'incomplete', 'refused'], description: 'incomplete: the gateway stopped without ending it; refused: a connection refused before it began' }) status!: string;
  @ApiProperty() identityId!: string;
  @ApiProperty() target!: string;
  @ApiProperty({ type: [String] }) grantIds!: string[];
  @ApiProperty({ type: [String], description: 'the access requests behind the grants' }) requestIds!: string[];
  @ApiProperty() clientAddress!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) endedAt?: string;
  @ApiPropertyOptional({ description: 'why it ended (client-closed, grant-ended, leaver, terminated...) or was refused (invalid-token, replayed-token...)' }) reason?: string;
  @ApiPropertyOptional() endedBy?: string;
  @ApiProperty({ description: 'statements recorded' }) statements!: number;
  @ApiPropertyOptional() gatewayId?: string;
}

export class SessionPage {
  @ApiProperty({ type: [SessionSummaryDoc] }) items!: SessionSummaryDoc[];
  @ApiProperty({ type: String, nullable: true, description: 'the `after` of the next page; null on the last' }) next!: string | null;
}

export class RecordedEventDoc {
  @ApiProperty({ description: 'SessionStarted, StatementsRecorded, SessionEnded, SessionMarkedIncomplete or SessionRefused' }) type!: string;
  @ApiProperty({ format: 'date-time' }) time!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the event: statements carry seq, protocol, text, parameters (redacted), startedAt, durationMs, command, rows or error' }) data!: object;
}

export class SessionRecordingDoc extends SessionSummaryDoc {
  @ApiProperty({ type: [RecordedEventDoc], description: 'the session stream, in order' }) events!: RecordedEventDoc[];
}
