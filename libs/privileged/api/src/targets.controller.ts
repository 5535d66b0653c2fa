import { Body, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses, badRequest, CurrentPrincipal, Principal, Roles } from '@custos/platform/http';
import { TargetService } from '@custos/privileged/application';
import { RegisterTargetDto } from './dto';
import { TargetDoc, TargetPage } from './responses';

const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * partsOf: a target given as a postgres:// URL, taken apart (user and password percent-decoded,
 * port 5432 by default). What is wrong with it is said by field name; the URL, which holds the
 * password, is never repeated.
 */
function partsOf(body: RegisterTargetDto): { host: string; port: number; database: string; adminCredential: { username: string; password: string } } {
  const refuse = (message: string) => badRequest(`url: ${message}`, [{ field: 'url', message }]);
  if (body.host !== undefined || body.port !== undefined || body.database !== undefined || body.adminCredential !== undefined) throw refuse('give url or host, port, database and adminCredential, not both');
  let url: URL;
  try {
    url = new URL(body.url!);
  } catch {
    throw refuse('must be a postgres:// URL');
  }
  let username: string, password: string, database: string;
  try {
    [username, password, database] = [decodeURIComponent(url.username), decodeURIComponent(url.password), decodeURIComponent(url.pathname.replace(/^\//, ''))];
  } catch {
    throw refuse('holds a malformed percent-encoding');
  }
  const port = url.port === '' ? 5432 : Number(url.port);
  if (!url.hostname) throw refuse('names no host');
  if (!SQL_NAME.test(username)) throw refuse('needs an admin user name: a letter or _, then letters, digits, _ or $');
  if (password === '') throw refuse('needs the admin password');
  if (!SQL_NAME.test(database)) throw refuse('needs a database name: a letter or _, then letters, digits, _ or $');
  if (url.search !== '' || url.hash !== '') throw refuse('takes no query or fragment');
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port, database, adminCredential: { username, password } };
}

const ADMIN_WRITE = [401, { status: 403, description: 'the token lacks custos:admin' }, 413, 415] as const;

@ApiTags('privileged')
@ApiBearerAuth()
@Controller('targets')
export class TargetsController {
  constructor(@Inject(TargetService) private readonly targets: TargetService) {}

  @Post()
  @HttpCode(201)
  @Roles('custos:admin')
  @ApiOperation({
    summary:
      'Register a managed system (PostgreSQL), by its parts or by a postgres:// URL: its connector must reach it and log in with the admin credential, which needs CREATEROLE. The admin password is sealed in the vault and never returned',
  })
  @ApiCreatedResponse({ type: TargetDoc })
  @ApiProblemResponses(
    { status: 400, description: 'bad input (errors name the field; never the password)' },
    ...ADMIN_WRITE,
    { status: 409, description: 'the key is registered already (target-already-registered)' },
    { status: 422, description: 'the target cannot be reached or the admin credential does not work (target-unreachable, with the connector\'s reason); nothing is stored' },
  )
  register(@Body() body: RegisterTargetDto, @CurrentPrincipal() principal: Principal) {
    const { host, port, database, adminCredential } = body.url !== undefined ? partsOf(body) : (body as Required<RegisterTargetDto>);
    return this.targets.register({ key: body.key, kind: body.kind, host, port, database, adminCredential: { username: adminCredential.username, password: adminCredential.password } }, { actor: principal.sub });
  }

  @Get()
  @Roles('custos:admin')
  @ApiOperation({ summary: 'The registered targets (no credentials)' })
  @ApiOkResponse({ type: TargetPage })
  @ApiProblemResponses(401, { status: 403, description: 'the token lacks custos:admin' })
  async list() {
    return { items: await this.targets.list(), next: null };
  }
}
