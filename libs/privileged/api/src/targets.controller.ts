import { Body, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses, CurrentPrincipal, Principal, Roles } from '@custos/platform/http';
import { TargetService } from '@custos/privileged/application';
import { RegisterTargetDto } from './dto';
import { TargetDoc, TargetPage } from './responses';

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
      'Register a managed system (PostgreSQL): its connector must reach it and log in with the admin credential, which needs CREATEROLE. The admin password is sealed in the vault and never returned',
  })
  @ApiCreatedResponse({ type: TargetDoc })
  @ApiProblemResponses(
    { status: 400, description: 'bad input (errors name the field; never the password)' },
    ...ADMIN_WRITE,
    { status: 409, description: 'the key is registered already (target-already-registered)' },
    { status: 422, description: 'the target cannot be reached or the admin credential does not work (target-unreachable, with the connector\'s reason); nothing is stored' },
  )
  register(@Body() body: RegisterTargetDto, @CurrentPrincipal() principal: Principal) {
    return this.targets.register(
      { key: body.key, kind: body.kind, host: body.host, port: body.port, database: body.database, adminCredential: { username: body.adminCredential.username, password: body.adminCredential.password } },
      { actor: principal.sub },
    );
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
