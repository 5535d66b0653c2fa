module.exports = { ...require('../../../jest.preset.js'), displayName: 'privileged-api', rootDir: __dirname };
