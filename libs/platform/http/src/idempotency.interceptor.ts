import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, Observable, of } from 'rxjs';
import { catchError, mergeMap } from 'rxjs/operators';
import type { SqlDatabase } from '@custos/platform/event-store';
import { migrateContext } from '@custos/platform/runtime';
import type { Principal } from './auth/principal';
import { problem, ProblemException } from './problem';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every write accepts an `Idempotency-Key`: the first answer is stored (per caller and key) and
 * a repeat gets it again without running the write twice. A repeat while the first is still
 * running gets 409; the same key on a different request gets 422. A failed first attempt
 * leaves no record, so the client may retry it. Keys are remembered for 24 hours.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private ready?: Promise<void>;
  private claims = 0;

  constructor(private readonly db: SqlDatabase) {}

  private migrate(): Promise<void> {
    this.ready ??= migrateContext(this.db, 'http', [
      async (tx) => {
        await tx.query(`CREATE TABLE IF NOT EXISTS http.idempotency_keys (
          caller text NOT NULL, key text NOT NULL, fingerprint text NOT NULL, status int, body jsonb,
          created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (caller, key))`);
      },
    ]);
    return this.ready;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal | null }>();
    const key = request.headers['idempotency-key'];
    if (!WRITES.has(request.method) || typeof key !== 'string' || key === '') return next.handle();
    if (key.length > 200) throw new ProblemException(problem(400, 'validation', 'Idempotency-Key is longer than 200 characters'));
    const response = context.switchToHttp().getResponse<FastifyReply>();
    const caller = request.principal?.sub ?? 'anonymous';
    // The canonical JSON (RFC 8785) of the body: the same request with its properties in another
    // order is the same request, not a reuse of the key for a different one.
    const fingerprint = createHash('sha256').update(`${request.method} ${request.url}\n${canonicalize(request.body ?? null) ?? 'null'}`).digest('hex');
    return from(this.claim(caller, key, fingerprint)).pipe(
      mergeMap((stored) => {
        if (stored) {
          response.status(stored.status);
          response.header('Idempotent-Replayed', 'true');
          return of(stored.body);
        }
        return next.handle().pipe(
          mergeMap((body) => from(this.remember(caller, key, response.statusCode, body)).pipe(mergeMap(() => of(body)))),
          catchError((error: unknown) => from(this.forget(caller, key)).pipe(mergeMap(() => Promise.reject(error)))),
        );
      }),
    );
  }

  /** Null when this request owns the key now; the stored answer when it was answered before. */
  private async claim(caller: string, key: string, fingerprint: string): Promise<{ status: number; body: unknown } | null> {
    await this.migrate();
    // Keys are kept for a day (as payment APIs do); the sweep runs now and then, not on every write.
    if (this.claims++ % 1000 === 0) await this.db.query(`DELETE FROM http.idempotency_keys WHERE created_at < now() - interval '24 hours'`);
    const inserted = await this.db.query(`INSERT INTO http.idempotency_keys (caller, key, fingerprint) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [caller, key, fingerprint]);
    if (inserted.rowCount === 1) return null;
    const { rows } = await this.db.query<{ fingerprint: string; status: number | null; body: unknown }>(`SELECT fingerprint, status, body FROM http.idempotency_keys WHERE caller = $1 AND key = $2`, [caller, key]);
    const row = rows[0];
    if (!row) return this.claim(caller, key, fingerprint);
    if (row.fingerprint !== fingerprint) throw new ProblemException(problem(422, 'idempotency-key-reused', 'this Idempotency-Key was used for a different request'));
    if (row.status === null) throw new ProblemException(problem(409, 'idempotency-key-in-progress', 'a request with this Idempotency-Key is still being processed'));
    return { status: row.status, body: typeof row.body === 'string' ? JSON.parse(row.body) : row.body };
  }

  private async remember(caller: string, key: string, status: number, body: unknown): Promise<void> {
    await this.db.query(`UPDATE http.idempotency_keys SET status = $3, body = $4 WHERE caller = $1 AND key = $2`, [caller, key, status, JSON.stringify(body ?? null)]);
  }

  private async forget(caller: string, key: string): Promise<void> {
    await this.db.query(`DELETE FROM http.idempotency_keys WHERE caller = $1 AND key = $2 AND status IS NULL`, [caller, key]);
  }
}

