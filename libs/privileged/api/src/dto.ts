import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';

const KEY = /^[A-Za-z0-9][A-Za-z0-9:._\-/]{0,199}$/;
const KEY_MESSAGE = 'a key is 1-200 letters, digits and : . _ - /, starting with a letter or digit';
const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const DURATION_MESSAGE = 'must be an ISO 8601 duration such as PT1H or P30D';
/** A host name or an IPv4/IPv6 address: letters, digits, dots, dashes and colons. */
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.:-]{0,252})$/;
/** A PostgreSQL role or database name as Custos takes them: a letter or _, then letters, digits, _ or $ (at most 63). */
const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const SQL_NAME_MESSAGE = 'must be a letter or _, then letters, digits, _ or $ (at most 63)';

export class AdminCredentialDto {
  @ApiProperty({ example: 'custos_admin', description: 'a role that may create roles (CREATEROLE) on the target' }) @Matches(SQL_NAME, { message: `username ${SQL_NAME_MESSAGE}` }) username!: string;
  @ApiProperty({ format: 'password', writeOnly: true, description: 'stored sealed in the vault, never returned, logged or echoed in an error' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  password!: string;
}

/** Given the parts (host, port, database, adminCredential), or all of them as one `url`. */
const byParts = (o: RegisterTargetDto) => o.url === undefined;

export class RegisterTargetDto {
  @ApiProperty({ example: 'pg-prod' }) @Matches(KEY, { message: KEY_MESSAGE }) key!: string;
  @ApiProperty({ enum: ['postgresql'] }) @IsIn(['postgresql']) kind!: 'postgresql';
  @ApiPropertyOptional({ example: 'db.internal', description: 'required unless url is given' }) @ValidateIf(byParts) @Matches(HOST, { message: 'host must be a host name or an IP address' }) host?: string;
  @ApiPropertyOptional({ example: 5432, description: 'required unless url is given' }) @ValidateIf(byParts) @IsInt() @Min(1) @Max(65535) port?: number;
  @ApiPropertyOptional({ example: 'app', description: 'required unless url is given' }) @ValidateIf(byParts) @Matches(SQL_NAME, { message: `database ${SQL_NAME_MESSAGE}` }) database?: string;
  @ApiPropertyOptional({ type: AdminCredentialDto, description: 'required unless url is given' }) @ValidateIf(byParts) @IsObject() @ValidateNested() @Type(() => AdminCredentialDto) adminCredential?: AdminCredentialDto;
  @ApiPropertyOptional({
    format: 'password',
    writeOnly: true,
    description: 'instead of the parts: postgres://<admin user>:<password>@<host>:<port>/<database> (percent-encoded); its password is sealed in the vault like adminCredential.password',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'url must be a postgres:// URL' })
  url?: string;
}

export class RegisterVaultAccountDto {
  @ApiProperty({ example: 'pg-prod-dba' }) @Matches(KEY, { message: KEY_MESSAGE }) key!: string;
  @ApiProperty({ example: 'pg-prod', description: 'a registered target' }) @Matches(KEY, { message: KEY_MESSAGE }) target!: string;
  @ApiProperty({ example: 'dba', description: 'the shared account on the target; Custos rotates its password at once' }) @Matches(SQL_NAME, { message: `username ${SQL_NAME_MESSAGE}` }) username!: string;
  @ApiProperty({ example: 'pg-prod:dba', description: 'the entitlement whose active holders may check it out' }) @Matches(KEY, { message: KEY_MESSAGE }) entitlement!: string;
  @ApiPropertyOptional({ example: 'P30D', description: 'rotated this long after each rotation' }) @IsOptional() @Matches(DURATION, { message: `rotateEvery ${DURATION_MESSAGE}` }) rotateEvery?: string;
}

export class CheckOutDto {
  @ApiPropertyOptional({ example: 'PT1H', description: 'the lease; PT1H by default, at most PT8H, never past the grant' }) @IsOptional() @Matches(DURATION, { message: `duration ${DURATION_MESSAGE}` }) duration?: string;
  @ApiPropertyOptional({ example: 'INC-1234: fix the replication slot', description: 'why, kept in the audit log' }) @IsOptional() @IsString() @MaxLength(2000) reason?: string;
}

export class EmptyBodyDto {}
