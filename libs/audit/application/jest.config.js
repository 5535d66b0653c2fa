module.exports = { ...require('../../../jest.preset.js'), displayName: 'audit-application', rootDir: __dirname };
