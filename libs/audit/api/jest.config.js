module.exports = { ...require('../../../jest.preset.js'), displayName: 'audit-api', rootDir: __dirname };
