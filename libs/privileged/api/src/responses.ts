import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'Target' })
export class TargetDoc {
  @ApiProperty({ example: 'pg-prod' }) key!: string;
  @ApiProperty({ enum: ['postgresql'] }) kind!: string;
  @ApiProperty({ example: 'db.internal' }) host!: string;
  @ApiProperty({ example: 5432 }) port!: number;
  @ApiProperty({ example: 'app' }) database!: string;
  @ApiProperty({ example: 'custos_admin', description: 'the admin credential\'s user; its password is in the vault and never returned' }) adminUsername!: string;
  @ApiProperty({ format: 'date-time' }) registeredAt!: string;
}

export class TargetPage {
  @ApiProperty({ type: [TargetDoc] }) items!: TargetDoc[];
  @ApiProperty({ type: String, nullable: true }) next!: string | null;
}

export class LeaseDoc {
  @ApiProperty({ format: 'uuid' }) leaseId!: string;
  @ApiProperty() identityId!: string;
  @ApiProperty({ format: 'date-time' }) checkedOutAt!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class PendingRotationDoc {
  @ApiProperty({ format: 'uuid' }) rotationId!: string;
  @ApiProperty({ enum: ['onboarding', 'check-in', 'lease-expired', 'grant-ended', 'scheduled', 'on-demand'] }) reason!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ description: 'failed attempts so far' }) attempts!: number;
}

export class RotationFailureDoc {
  @ApiProperty({ example: 'db.internal:5432 cannot be reached (ECONNREFUSED)' }) error!: string;
  @ApiProperty({ format: 'date-time' }) failedAt!: string;
  @ApiProperty({ format: 'date-time' }) retryAt!: string;
}

@ApiSchema({ name: 'VaultAccount' })
export class VaultAccountDoc {
  @ApiProperty({ example: 'pg-prod-dba' }) key!: string;
  @ApiProperty({ example: 'pg-prod' }) target!: string;
  @ApiProperty({ example: 'dba' }) username!: string;
  @ApiProperty({ example: 'pg-prod:dba' }) entitlement!: string;
  @ApiPropertyOptional({ example: 'P30D' }) rotateEvery?: string;
  @ApiProperty({ enum: ['available', 'checked-out', 'rotating'] }) status!: string;
  @ApiProperty({ description: 'the password version the target has (0 before the first rotation completed)' }) version!: number;
  @ApiPropertyOptional({ type: LeaseDoc }) lease?: LeaseDoc;
  @ApiPropertyOptional({ type: PendingRotationDoc, description: 'a new password being set on the target' }) pendingRotation?: PendingRotationDoc;
  @ApiPropertyOptional({ format: 'date-time', description: 'the last successful rotation' }) lastRotatedAt?: string;
  @ApiPropertyOptional({ type: RotationFailureDoc, description: 'the last failed rotation attempt' }) lastFailure?: RotationFailureDoc;
}

@ApiSchema({ name: 'VaultCheckOut' })
export class CheckOutDoc {
  @ApiProperty({ example: 'pg-prod-dba' }) key!: string;
  @ApiProperty({ example: 'dba' }) username!: string;
  @ApiProperty({ format: 'password', description: 'shown in this answer only; rotated when the lease ends' }) password!: string;
  @ApiProperty({ format: 'uuid' }) leaseId!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

@ApiSchema({ name: 'JitCredential' })
export class JitCredentialDoc {
  @ApiProperty() grantId!: string;
  @ApiProperty({ example: 'custos_3f9a0c12b4de' }) username!: string;
  @ApiProperty({ format: 'password', description: 'shown once: a second request answers 410' }) password!: string;
  @ApiProperty({ example: 'db.internal' }) host!: string;
  @ApiProperty({ example: 5432 }) port!: number;
  @ApiProperty({ example: 'app' }) database!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'the grant\'s end: the login stops working then (VALID UNTIL) and the account is dropped' }) expiresAt?: string;
}
