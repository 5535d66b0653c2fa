export * from './request.module';
