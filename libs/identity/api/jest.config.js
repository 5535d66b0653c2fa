module.exports = { ...require('../../../jest.preset.js'), displayName: 'identity-api', rootDir: __dirname };
